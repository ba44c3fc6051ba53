using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// Writes the body sent upstream: the caller's bytes exactly as they came, except the fields policy rewrites — the
/// model id (aliases resolved to the upstream's id), the output cap when admission changed it, and for streams
/// <c>stream_options.include_usage: true</c> so the provider always reports what it bills. Nothing else is parsed and
/// written again: text (CJK, emoji, escapes), numbers and whitespace reach the upstream byte for byte.
/// </summary>
public static class ModelRequestRewriter
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>Writes the upstream body into <paramref name="output"/>.</summary>
    public static void Write(ModelRequest request, string upstreamModel, IBufferWriter<byte> output) =>
        Write(request, upstreamModel, null, 0, output);

    /// <summary>
    /// Writes the upstream body, also setting the output cap: <paramref name="capField"/> (the field the caller used,
    /// or the model's configured one) is set to <paramref name="cap"/>; the other cap field is not written.
    /// </summary>
    public static void Write(ModelRequest request, string upstreamModel, string? capField, long cap, IBufferWriter<byte> output) =>
        Write(request, upstreamModel, capField, cap, output, null);

    /// <summary>
    /// Writes the upstream body as <see cref="Write(ModelRequest, string, string?, long, IBufferWriter{byte})"/> does,
    /// and adds <paramref name="maxToolCalls"/> as <c>max_tool_calls</c> (Responses API, to a body that has none) when given.
    /// </summary>
    public static void Write(ModelRequest request, string upstreamModel, string? capField, long cap, IBufferWriter<byte> output, long? maxToolCalls)
    {
        ReadOnlySpan<byte> body = request.Body.Span;
        var root = request.Document.RootElement;
        ReadOnlySpan<byte> rootBytes = JsonMarshal.GetRawUtf8Value(root);
        int rootStart = OffsetIn(body, rootBytes);
        var edits = new List<Edit>(4);
        bool hasStreamOptions = false, hasCap = false;
        // The Responses API always reports usage on its final event and has no include_usage option.
        bool forceUsage = request.Stream && request.Endpoint != ApiEndpoint.Responses;
        foreach (var property in root.EnumerateObject())
        {
            ReadOnlySpan<byte> value = JsonMarshal.GetRawUtf8Value(property.Value);
            int valueStart = OffsetIn(body, value);
            if (property.NameEquals("model"u8))
            {
                if (!property.Value.ValueEquals(upstreamModel))
                {
                    edits.Add(new Edit(valueStart, value.Length, JsonString(upstreamModel)));
                }
            }
            else if (capField is not null && (property.NameEquals("max_tokens"u8) || property.NameEquals("max_completion_tokens"u8)
                || property.NameEquals("max_output_tokens"u8)))
            {
                if (property.NameEquals(capField))
                {
                    hasCap = true;
                    edits.Add(new Edit(valueStart, value.Length, Number(cap)));
                }
                else
                {
                    edits.Add(Removal(body, property, valueStart + value.Length));
                }
            }
            else if (forceUsage && property.NameEquals("stream_options"u8))
            {
                hasStreamOptions = true;
                if (!IncludesUsage(property.Value))
                {
                    edits.Add(new Edit(valueStart, value.Length, StreamOptions(property.Value)));
                }
            }
        }

        // New members go just before the root object's closing brace.
        int closing = rootStart + rootBytes.Length - 1;
        if (forceUsage && !hasStreamOptions)
        {
            edits.Add(new Edit(closing, 0, [.. ","u8, .. "\"stream_options\":"u8, .. StreamOptions(default)]));
        }

        if (capField is not null && !hasCap)
        {
            edits.Add(new Edit(closing, 0, [.. ","u8, .. JsonString(capField), .. ":"u8, .. Number(cap)]));
        }

        if (maxToolCalls is { } calls)
        {
            edits.Add(new Edit(closing, 0, [.. ","u8, .. "\"max_tool_calls\":"u8, .. Number(calls)]));
        }

        int at = 0;
        foreach (var edit in edits)
        {
            output.Write(body[at..edit.Start]);
            output.Write(edit.Replacement);
            at = edit.Start + edit.Length;
        }

        output.Write(body[at..]);
    }

    // A property removed with one of the commas around it: the one after it, or (for the last member) the one before.
    private static Edit Removal(ReadOnlySpan<byte> body, JsonProperty property, int valueEnd)
    {
        int start = OffsetIn(body, JsonMarshal.GetRawUtf8PropertyName(property)) - 1;
        int end = valueEnd;
        int next = SkipWhitespace(body, end);
        if (body[next] == (byte)',')
        {
            end = next + 1;
        }
        else
        {
            int previous = start - 1;
            while (previous > 0 && IsWhitespace(body[previous]))
            {
                previous--;
            }

            if (body[previous] == (byte)',')
            {
                start = previous;
            }
        }

        return new Edit(start, end - start, []);
    }

    private static bool IncludesUsage(JsonElement options) =>
        options.ValueKind == JsonValueKind.Object && options.TryGetProperty("include_usage"u8, out var include) && include.ValueKind == JsonValueKind.True;

    private static byte[] StreamOptions(JsonElement existing)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            if (existing.ValueKind == JsonValueKind.Object)
            {
                foreach (var option in existing.EnumerateObject())
                {
                    if (!option.NameEquals("include_usage"u8))
                    {
                        option.WriteTo(writer);
                    }
                }
            }

            writer.WriteBoolean("include_usage", true);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    internal static byte[] JsonString(string value) =>
        System.Text.Encoding.UTF8.GetBytes("\"" + JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value + "\"");

    internal static byte[] Number(long value) => System.Text.Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    private static int SkipWhitespace(ReadOnlySpan<byte> body, int index)
    {
        while (index < body.Length && IsWhitespace(body[index]))
        {
            index++;
        }

        return index;
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    // Where a span the document handed out lies in the body it was parsed from.
    internal static int OffsetIn(ReadOnlySpan<byte> body, ReadOnlySpan<byte> part) =>
        body.Overlaps(part, out int offset) ? offset : throw new InvalidOperationException("The document was not parsed from this body.");

    private readonly record struct Edit(int Start, int Length, byte[] Replacement);
}
