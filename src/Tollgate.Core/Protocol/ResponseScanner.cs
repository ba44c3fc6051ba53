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

    /// <summary>Whether the JSON was an error object (<c>{"error": …}</c>).</summary>
    public bool IsError { get; set; }
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

            scan.Valid = reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0;
        }
        catch (JsonException)
        {
            scan.Valid = false;
        }

        return scan;
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref ResponseScan scan)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        long prompt = 0, completion = 0, cached = 0, reasoning = 0;
        bool empty = true;
        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            empty = false;
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                prompt = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                completion = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("cached_tokens"u8))
            {
                cached = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("reasoning_tokens"u8))
            {
                reasoning = ReadLong(ref reader);
            }
        }

        scan.HasUsage = true;
        scan.UsageEmpty = empty;
        scan.UsageEnd = (int)reader.TokenStartIndex;
        scan.Usage = new TokenUsage(prompt, cached, completion, reasoning);
    }

    private static long ReadLong(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long v) && v >= 0 ? v : 0;
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
                generated!.Append(reader.GetString());
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
