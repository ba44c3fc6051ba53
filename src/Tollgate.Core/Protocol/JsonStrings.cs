using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// The text of a JSON string value, decoded into a caller's buffer instead of a new <see cref="string"/>: token
/// counting and the input checks read each message's text once per request, and need it only for that moment.
/// </summary>
/// <remarks>
/// The text was checked when the request was read (<see cref="JsonTextValidator"/>: valid UTF-8, escapes that decode to
/// valid UTF-16), so the decoded text is exactly what <see cref="JsonElement.GetString"/> returns.
/// </remarks>
public static class JsonStrings
{
    /// <summary>
    /// The most characters <paramref name="value"/>, a JSON string, decodes to: the bytes between its quotes (a UTF-8
    /// sequence or an escape is never shorter than the UTF-16 it decodes to).
    /// </summary>
    public static int MaxLength(JsonElement value) => JsonMarshal.GetRawUtf8Value(value).Length - 2;

    /// <summary>
    /// Decodes <paramref name="value"/>, a JSON string, into <paramref name="destination"/>, which holds at least
    /// <see cref="MaxLength"/> characters; returns how many it wrote.
    /// </summary>
    public static int Decode(JsonElement value, Span<char> destination)
    {
        ReadOnlySpan<byte> raw = JsonMarshal.GetRawUtf8Value(value);
        ReadOnlySpan<byte> content = raw[1..^1];
        if (!content.Contains((byte)'\\'))
        {
            return Encoding.UTF8.GetChars(content, destination);
        }

        var reader = new Utf8JsonReader(raw);
        reader.Read();
        return reader.CopyString(destination);
    }
}
