using System.Text;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>What <see cref="AnthropicResponseScanner"/> found in a Messages response body or one stream event.</summary>
public readonly record struct AnthropicScan
{
    /// <summary>Whether the JSON was a well-formed object.</summary>
    public bool Valid { get; init; }

    /// <summary>The top-level <c>type</c> (<c>message</c>, <c>message_start</c>, <c>message_delta</c>, <c>error</c>, …), or null.</summary>
    public string? Type { get; init; }

    /// <summary>Whether a usage object (top-level, or in <c>message_start</c>'s message) was present.</summary>
    public bool HasUsage { get; init; }

    /// <summary>The usage read.</summary>
    public AnthropicUsage Usage { get; init; }

    /// <summary>Byte offset of the usage object's closing brace (-1 when it is not an object).</summary>
    public int UsageEnd { get; init; }

    /// <summary>Whether the usage object had no members.</summary>
    public bool UsageEmpty { get; init; }

    /// <summary>Whether the body or event is an error.</summary>
    public bool IsError => Type == "error";
}

/// <summary>
/// Reads Anthropic Messages responses and stream events in one forward pass with <see cref="Utf8JsonReader"/>: the
/// <c>type</c>, the usage (top-level, or inside <c>message_start</c>'s <c>message</c>), and — into an optional sink —
/// the generated text: text, thinking, tool names and tool inputs (whole, or as <c>partial_json</c> deltas), so output
/// can be counted when usage is missing.
/// </summary>
public static class AnthropicResponseScanner
{
    /// <summary>Scans <paramref name="json"/>; appends generated text to <paramref name="generated"/> when given.</summary>
    public static AnthropicScan Scan(ReadOnlySpan<byte> json, StringBuilder? generated)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 128 });
        var state = new State { UsageEnd = -1 };
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            ReadObject(ref reader, json, ref state, generated, topLevel: true);
            state.Valid = reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0 && !reader.Read();
        }
        catch (JsonException)
        {
            state.Valid = false;
        }

        return new AnthropicScan
        {
            Valid = state.Valid,
            Type = state.Type,
            HasUsage = state.HasUsage,
            Usage = state.Usage,
            UsageEnd = state.UsageEnd,
            UsageEmpty = state.UsageEmpty,
        };
    }

    // Reads the members of the object the reader is on (its StartObject), up to its EndObject.
    private static void ReadObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ref State state, StringBuilder? generated, bool topLevel)
    {
        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                ReadUsage(ref reader, ref state);
            }
            else if (topLevel && reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                state.Type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                // message_start: the message, with the input half of the usage.
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadObject(ref reader, json, ref state, generated, topLevel: false);
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (generated is not null && (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("content_block"u8) || reader.ValueTextEquals("delta"u8)))
            {
                reader.Read();
                CollectText(ref reader, json, generated);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    // Generated text: text, thinking, partial tool input, tool names; a whole tool input as its JSON.
    private static void CollectText(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, StringBuilder generated)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            reader.Skip();
            return;
        }

        int depth = reader.CurrentDepth;
        bool collect = false;
        while (reader.Read() && !(reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("input"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        int start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        int end = (int)reader.TokenStartIndex + 1;
                        // "{}" is the empty input a streamed tool_use starts with: its input arrives as partial_json.
                        if (end - start > 2)
                        {
                            generated.Append(Encoding.UTF8.GetString(json[start..end]));
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }

                    collect = false;
                    continue;
                }

                collect = reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("thinking"u8)
                    || reader.ValueTextEquals("partial_json"u8) || reader.ValueTextEquals("name"u8);
            }
            else if (reader.TokenType == JsonTokenType.String && collect)
            {
                AppendLenient(ref reader, generated);
                collect = false;
            }
            else
            {
                collect = false;
            }
        }
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref State state)
    {
        state.HasUsage = true;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                state.HasUsage = false;
            }
            else
            {
                state.Usage = new AnthropicUsage { Malformed = true };
                state.UsageEmpty = true;
                state.UsageEnd = -1;
            }

            reader.Skip();
            return;
        }

        var usage = new AnthropicUsage();
        bool empty = true, malformed = false;
        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            empty = false;
            if (reader.ValueTextEquals("input_tokens"u8))
            {
                usage = usage with { Input = ResponseScanner.ReadCount(ref reader, ref malformed) };
            }
            else if (reader.ValueTextEquals("output_tokens"u8))
            {
                usage = usage with { Output = ResponseScanner.ReadCount(ref reader, ref malformed) };
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                usage = usage with { CacheCreation = ResponseScanner.ReadCount(ref reader, ref malformed) };
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                usage = usage with { CacheRead = ResponseScanner.ReadCount(ref reader, ref malformed) };
            }
            else if (reader.ValueTextEquals("cache_creation"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                int inner = reader.CurrentDepth;
                while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == inner))
                {
                    if (reader.TokenType != JsonTokenType.PropertyName)
                    {
                        continue;
                    }

                    if (reader.ValueTextEquals("ephemeral_5m_input_tokens"u8))
                    {
                        usage = usage with { CacheWrite5m = ResponseScanner.ReadCount(ref reader, ref malformed) };
                    }
                    else if (reader.ValueTextEquals("ephemeral_1h_input_tokens"u8))
                    {
                        usage = usage with { CacheWrite1h = ResponseScanner.ReadCount(ref reader, ref malformed) };
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        state.Usage = usage with { Malformed = malformed };
        state.UsageEmpty = empty;
        state.UsageEnd = (int)reader.TokenStartIndex;
    }

    private static void AppendLenient(ref Utf8JsonReader reader, StringBuilder generated)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            generated.Append(Encoding.UTF8.GetString(reader.ValueSpan));
            return;
        }

        try
        {
            generated.Append(reader.GetString());
        }
        catch (InvalidOperationException)
        {
            generated.Append(Encoding.UTF8.GetString(reader.ValueSpan));
        }
    }

    private struct State
    {
        public bool Valid;
        public string? Type;
        public bool HasUsage;
        public AnthropicUsage Usage;
        public int UsageEnd;
        public bool UsageEmpty;
    }
}
