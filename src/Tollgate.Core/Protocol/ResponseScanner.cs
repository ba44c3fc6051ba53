using System.Text;
using System.Text.Json;
using Tollgate.Pricing;

namespace Tollgate.Protocol;

/// <summary>What <see cref="ResponseScanner"/> found in a response body or stream chunk.</summary>
public record struct ResponseScan
{
    /// <summary>Whether the JSON was well formed.</summary>
    public bool Valid { get; set; }

    /// <summary>Whether a non-null top-level <c>usage</c> object was present.</summary>
    public bool HasUsage { get; set; }

    /// <summary>The usage, when <see cref="HasUsage"/>.</summary>
    public TokenUsage Usage { get; set; }

    /// <summary>Byte offset of the usage object's closing brace (to add the cost next to it).</summary>
    public int UsageEnd { get; set; }

    /// <summary>Whether the usage object had no members.</summary>
    public bool UsageEmpty { get; set; }

    /// <summary>Number of items in the top-level <c>choices</c> array (-1 when absent).</summary>
    public int Choices { get; set; }

    /// <summary>The id of a stored response (Responses API: the response's <c>id</c>), when the body carries one.</summary>
    public string? ResponseId { get; set; }

    /// <summary>
    /// The hosted tool calls the output of a whole Responses API response (or the final event's response) lists;
    /// null when it lists none.
    /// </summary>
    public HostedToolCalls? ToolCalls { get; set; }

    /// <summary>The type of the hosted tool call a Responses API stream event announces as done (<c>response.output_item.done</c>), or null.</summary>
    public string? ToolCallItem { get; set; }

    /// <summary>
    /// Whether this stream event is the stream's last word on the answer (Responses API: <c>response.completed</c>,
    /// <c>response.incomplete</c> or <c>response.failed</c>), whatever its usage holds.
    /// </summary>
    public bool IsFinal { get; set; }

    /// <summary>Whether the JSON was an error object (<c>{"error": …}</c>).</summary>
    public bool IsError { get; set; }

    /// <summary>Whether the usage held <c>prompt_tokens</c> as a count.</summary>
    public bool HasInputCount { get; set; }

    /// <summary>Whether the usage held <c>completion_tokens</c> as a count.</summary>
    public bool HasOutputCount { get; set; }

    /// <summary>
    /// Whether the usage was present but unreadable: not an object, a count that is not a non-negative integer, or
    /// cached tokens above the input or reasoning tokens above the output.
    /// </summary>
    public bool UsageMalformed { get; set; }

    /// <summary>
    /// Whether the usage can be billed as reported: present, well formed, with an input count and (unless
    /// <paramref name="outputExpected"/> is false, as for embeddings) an output count, and no zero output while
    /// <paramref name="generatedChars"/> characters of output arrived.
    /// </summary>
    public readonly bool UsageIsKnown(bool outputExpected, int generatedChars) =>
        HasUsage && !UsageMalformed && HasInputCount && (!outputExpected || HasOutputCount)
        && !(outputExpected && generatedChars > 0 && Usage.OutputTokens == 0);
}

/// <summary>
/// Reads an OpenAI response body or stream chunk in one forward pass with <see cref="Utf8JsonReader"/>: the usage
/// object (with cached and reasoning token details), the number of choices, and — into an optional sink — the
/// generated text, so output can be counted when the upstream reports no usage.
/// </summary>
public static class ResponseScanner
{
    /// <summary>Scans <paramref name="json"/>; appends generated text to <paramref name="generated"/> when given.</summary>
    public static ResponseScan Scan(ReadOnlySpan<byte> json, StringBuilder? generated)
    {
        var scan = new ResponseScan { Choices = -1 };
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return scan;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    ReadUsage(ref reader, ref scan);
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    scan.Choices = ReadChoices(ref reader, generated);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    scan.IsError = true;
                    reader.Read();
                    reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // Nothing may follow the object: a body of two values is not JSON, and would reach the caller as such.
            scan.Valid = reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0 && !reader.Read();
        }
        catch (JsonException)
        {
            scan.Valid = false;
        }

        return scan;
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref ResponseScan scan) =>
        ReadUsage(ref reader, ref scan, "prompt_tokens"u8, "completion_tokens"u8, countsAtTopOnly: false);

    /// <summary>
    /// Reads an OpenAI-shaped usage object (chat completions' <c>prompt_tokens</c> / <c>completion_tokens</c>, or the
    /// Responses API's <c>input_tokens</c> / <c>output_tokens</c>, each with <c>cached_tokens</c> and
    /// <c>reasoning_tokens</c> in its details) into <paramref name="scan"/>. With <paramref name="countsAtTopOnly"/>,
    /// the input and output counts are read only as the object's own members, not from objects nested in it.
    /// </summary>
    internal static void ReadUsage(ref Utf8JsonReader reader, ref ResponseScan scan, ReadOnlySpan<byte> inputName, ReadOnlySpan<byte> outputName,
        bool countsAtTopOnly)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            if (reader.TokenType != JsonTokenType.Null)
            {
                // A usage that is not an object is usage the gateway cannot read: unknown, not zero.
                scan.HasUsage = true;
                scan.UsageMalformed = true;
                scan.UsageEmpty = true;
                scan.UsageEnd = -1;
            }

            reader.Skip();
            return;
        }

        long input = 0, output = 0, cached = 0, reasoning = 0;
        bool empty = true, malformed = false, hasInput = false, hasOutput = false;
        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            empty = false;
            bool top = !countsAtTopOnly || reader.CurrentDepth == depth + 1;
            if (top && reader.ValueTextEquals(inputName))
            {
                hasInput |= ReadCount(ref reader, ref input, ref malformed);
            }
            else if (top && reader.ValueTextEquals(outputName))
            {
                hasOutput |= ReadCount(ref reader, ref output, ref malformed);
            }
            else if (reader.ValueTextEquals("cached_tokens"u8))
            {
                ReadCount(ref reader, ref cached, ref malformed);
            }
            else if (reader.ValueTextEquals("reasoning_tokens"u8))
            {
                ReadCount(ref reader, ref reasoning, ref malformed);
            }
        }

        scan.HasUsage = true;
        scan.UsageEmpty = empty;
        scan.UsageEnd = (int)reader.TokenStartIndex;
        scan.HasInputCount = hasInput;
        scan.HasOutputCount = hasOutput;
        scan.UsageMalformed = malformed || cached > input || reasoning > output;
        scan.Usage = new TokenUsage(input, cached, output, reasoning);
    }

    // A count is a non-negative integer; null counts as absent. Anything else (a string, a fraction, a negative or
    // out-of-range number, an object) makes the whole usage unknown.
    // Every protocol's usage scanner reads its counts this way.
    internal static long? ReadCount(ref Utf8JsonReader reader, ref bool malformed)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long v) && v >= 0)
        {
            return v;
        }

        malformed = true;
        reader.Skip();
        return null;
    }

    /// <summary>Reads a count into <paramref name="value"/>; whether one was there.</summary>
    internal static bool ReadCount(ref Utf8JsonReader reader, ref long value, ref bool malformed)
    {
        if (ReadCount(ref reader, ref malformed) is not { } count)
        {
            return false;
        }

        value = count;
        return true;
    }

    // Text the upstream generated is counted, never trusted to be valid: invalid UTF-8 or a lone surrogate escape
    // is decoded with replacement characters rather than failing the relay.
    private static void AppendLenient(ref Utf8JsonReader reader, StringBuilder generated)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            // A short text (a stream event's word or two, most answers) is decoded on the stack: no string for it.
            const int Short = 256;
            if (reader.ValueSpan.Length <= Short)
            {
                Span<char> chars = stackalloc char[Short];
                generated.Append(chars[..Encoding.UTF8.GetChars(reader.ValueSpan, chars)]);
            }
            else
            {
                generated.Append(Encoding.UTF8.GetString(reader.ValueSpan));
            }

            return;
        }

        try
        {
            generated.Append(reader.GetString());
        }
        catch (InvalidOperationException)
        {
            byte[] raw = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan.ToArray();
            generated.Append(Encoding.UTF8.GetString(raw));
        }
    }

    private static int ReadChoices(ref Utf8JsonReader reader, StringBuilder? generated)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return -1;
        }

        int count = 0;
        int depth = reader.CurrentDepth;
        bool collect = false;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.StartObject && reader.CurrentDepth == depth + 1)
            {
                count++;
            }
            else if (reader.TokenType == JsonTokenType.PropertyName)
            {
                collect = generated is not null && (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("text"u8)
                    || reader.ValueTextEquals("arguments"u8) || reader.ValueTextEquals("refusal"u8)
                    || reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("name"u8));
            }
            else if (reader.TokenType == JsonTokenType.String && collect)
            {
                AppendLenient(ref reader, generated!);
                collect = false;
            }
            else
            {
                collect = false;
            }
        }

        return count;
    }
}
