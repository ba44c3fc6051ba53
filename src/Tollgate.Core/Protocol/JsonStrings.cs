using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace Tollgate.Protocol;

/// <summary>
/// The text of a JSON string value, decoded into a caller's buffer instead of a new <see cref="string"/>: token
/// counting and the input checks read each message's text once per request, and need it only for that moment.
/// </summary>
/// <remarks>
/// The decoded text is exactly what <see cref="JsonElement.GetString"/> returns, and text that is not valid Unicode
/// fails as it does (<see cref="InvalidOperationException"/>). A request's text was already checked when it was read
/// (<see cref="JsonTextValidator"/>).
/// </remarks>
public static class JsonStrings
{
    /// <summary>
    /// The most characters <paramref name="value"/>, a JSON string, decodes to: the bytes between its quotes (a UTF-8
    /// sequence or an escape is never shorter than the UTF-16 it decodes to).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is not a string.</exception>
    public static int MaxLength(JsonElement value) => Content(value).Length;

    /// <summary>
    /// Decodes <paramref name="value"/>, a JSON string, into <paramref name="destination"/>, which holds at least
    /// <see cref="MaxLength"/> characters; returns how many it wrote.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is not a string.</exception>
    /// <exception cref="InvalidOperationException">The string is not valid Unicode.</exception>
    public static int Decode(JsonElement value, Span<char> destination)
    {
        ReadOnlySpan<byte> content = Content(value);
        if (!content.Contains((byte)'\\'))
        {
            if (Utf8.ToUtf16(content, destination, out _, out int written, replaceInvalidSequences: false) == OperationStatus.Done)
            {
                return written;
            }

            // Not UTF-8: fails the way GetString does.
            _ = value.GetString();
        }

        var reader = new Utf8JsonReader(JsonMarshal.GetRawUtf8Value(value));
        reader.Read();
        return reader.CopyString(destination);
    }

    /// <summary>
    /// Decodes as much of <paramref name="value"/>, a JSON string, as fits in <paramref name="destination"/> (a prefix of
    /// its text, never half of a surrogate pair); returns how many characters it wrote, and in
    /// <paramref name="whole"/> whether that is all of the text.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is not a string.</exception>
    /// <exception cref="InvalidOperationException">The string is not valid Unicode.</exception>
    public static int DecodePrefix(JsonElement value, Span<char> destination, out bool whole)
    {
        ReadOnlySpan<byte> content = Content(value);
        whole = true;
        if (content.Length <= destination.Length)
        {
            return Decode(value, destination);
        }

        if (!content.Contains((byte)'\\'))
        {
            var status = Utf8.ToUtf16(content, destination, out _, out int written, replaceInvalidSequences: false, isFinalBlock: false);
            if (status is OperationStatus.Done or OperationStatus.DestinationTooSmall)
            {
                whole = status == OperationStatus.Done;
                return written;
            }
        }

        // Escaped (or not UTF-8, which throws here): the whole text, then its prefix.
        string text = value.GetString()!;
        int length = Math.Min(text.Length, destination.Length);
        if (length > 0 && length < text.Length && char.IsHighSurrogate(text[length - 1]))
        {
            length--;
        }

        text.AsSpan(0, length).CopyTo(destination);
        whole = length == text.Length;
        return length;
    }

    private static ReadOnlySpan<byte> Content(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new ArgumentException($"A JSON string is expected, not {value.ValueKind}.", nameof(value));
        }

        return JsonMarshal.GetRawUtf8Value(value)[1..^1];
    }
}
