using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Tollgate.Caching;

/// <summary>
/// Writes a JSON value in a canonical binary form, so that two documents that mean the same get the same bytes:
/// object members sorted by name (ordinal over their UTF-8 bytes), whitespace gone, strings and names unescaped
/// (<c>"\u0041"</c> and <c>"A"</c> are one string), every value tagged with its kind and every string and number
/// length-prefixed, so no two different documents can run together into the same bytes. Numbers keep their text
/// (<c>1</c> and <c>1.0</c> stay apart: a miss, never a collision).
/// </summary>
public static class CanonicalJson
{
    private const byte ObjectTag = (byte)'O';
    private const byte ArrayTag = (byte)'A';
    private const byte StringTag = (byte)'S';
    private const byte NumberTag = (byte)'N';
    private const byte TrueTag = (byte)'T';
    private const byte FalseTag = (byte)'F';
    private const byte NullTag = (byte)'Z';

    /// <summary>Writes <paramref name="element"/>; members of the root object named in <paramref name="ignoredRootMembers"/> are left out.</summary>
    public static void Write(JsonElement element, IBufferWriter<byte> output, IReadOnlySet<string>? ignoredRootMembers = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteValue(element, output, ignoredRootMembers);
    }

    /// <summary>Writes <paramref name="value"/> as a length-prefixed UTF-8 string, the form every string takes.</summary>
    public static void WriteString(string value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(output);
        WriteBytes(StringTag, Encoding.UTF8.GetBytes(value), output);
    }

    private static void WriteValue(JsonElement element, IBufferWriter<byte> output, IReadOnlySet<string>? ignored)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(element, output, ignored);
                break;
            case JsonValueKind.Array:
                WriteTag(ArrayTag, output);
                WriteLength(element.GetArrayLength(), output);
                foreach (var item in element.EnumerateArray())
                {
                    WriteValue(item, output, null);
                }

                break;
            case JsonValueKind.String:
                WriteBytes(StringTag, Unescaped(JsonMarshal.GetRawUtf8Value(element), element), output);
                break;
            case JsonValueKind.Number:
                WriteBytes(NumberTag, JsonMarshal.GetRawUtf8Value(element), output);
                break;
            case JsonValueKind.True:
                WriteTag(TrueTag, output);
                break;
            case JsonValueKind.False:
                WriteTag(FalseTag, output);
                break;
            default:
                WriteTag(NullTag, output);
                break;
        }
    }

    private static void WriteObject(JsonElement element, IBufferWriter<byte> output, IReadOnlySet<string>? ignored)
    {
        var members = new List<(byte[] Name, JsonElement Value)>();
        foreach (var property in element.EnumerateObject())
        {
            if (ignored is not null && ignored.Contains(property.Name))
            {
                continue;
            }

            var raw = JsonMarshal.GetRawUtf8PropertyName(property);
            members.Add((raw.Contains((byte)'\\') ? Encoding.UTF8.GetBytes(property.Name) : raw.ToArray(), property.Value));
        }

        members.Sort(static (a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        WriteTag(ObjectTag, output);
        WriteLength(members.Count, output);
        foreach (var (name, value) in members)
        {
            WriteBytes(StringTag, name, output);
            WriteValue(value, output, null);
        }
    }

    // A string's raw bytes (without its quotes) when it has no escapes (most do not), else its decoded value.
    private static ReadOnlySpan<byte> Unescaped(ReadOnlySpan<byte> raw, JsonElement element) =>
        raw.Contains((byte)'\\') ? Encoding.UTF8.GetBytes(element.GetString()!) : raw[1..^1];

    private static void WriteTag(byte tag, IBufferWriter<byte> output)
    {
        output.GetSpan(1)[0] = tag;
        output.Advance(1);
    }

    private static void WriteLength(int length, IBufferWriter<byte> output)
    {
        BinaryPrimitives.WriteInt32LittleEndian(output.GetSpan(4), length);
        output.Advance(4);
    }

    private static void WriteBytes(byte tag, ReadOnlySpan<byte> bytes, IBufferWriter<byte> output)
    {
        WriteTag(tag, output);
        WriteLength(bytes.Length, output);
        output.Write(bytes);
    }
}
