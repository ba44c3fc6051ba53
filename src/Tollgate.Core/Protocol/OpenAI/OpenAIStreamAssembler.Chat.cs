using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>The chat half: deltas into messages, and the answer written out.</summary>
public sealed partial class OpenAIStreamAssembler
{
    private bool ReadChatChoice(JsonElement item, Choice choice)
    {
        if (item.TryGetProperty("delta"u8, out var delta))
        {
            if (delta.ValueKind != JsonValueKind.Object || !ReadDelta(delta, choice))
            {
                return false;
            }
        }

        if (item.TryGetProperty("logprobs"u8, out var logprobs) && logprobs.ValueKind != JsonValueKind.Null)
        {
            if (logprobs.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            foreach (var part in logprobs.EnumerateObject())
            {
                if (part.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (!(part.NameEquals("content"u8) || part.NameEquals("refusal"u8)) || part.Value.ValueKind != JsonValueKind.Array)
                {
                    return false;
                }

                var list = choice.LogProbs(part.Name);
                foreach (var token in part.Value.EnumerateArray())
                {
                    list.Add(Raw(token));
                }
            }
        }

        return ReadFinish(item, choice);
    }

    private bool ReadDelta(JsonElement delta, Choice choice)
    {
        foreach (var field in delta.EnumerateObject())
        {
            var value = field.Value;
            if (field.NameEquals("content"u8) || field.NameEquals("refusal"u8)
                || field.NameEquals("reasoning_content"u8) || field.NameEquals("reasoning"u8))
            {
                if (value.ValueKind == JsonValueKind.String)
                {
                    Append(choice.Text(field.Name), value);
                }
                else if (value.ValueKind == JsonValueKind.Null)
                {
                    choice.Seen(field.Name);
                }
                else
                {
                    return false;
                }
            }
            else if (field.NameEquals("role"u8))
            {
                if (value.ValueKind != JsonValueKind.String)
                {
                    return false;
                }

                choice.Role ??= Raw(value);
            }
            else if (field.NameEquals("tool_calls"u8))
            {
                if (value.ValueKind != JsonValueKind.Array || !ReadToolCalls(value, choice))
                {
                    return false;
                }
            }
            else if (value.ValueKind != JsonValueKind.Null)
            {
                // audio, function_call, annotations…: not assembled, so not stored.
                return false;
            }
        }

        return true;
    }

    private bool ReadToolCalls(JsonElement calls, Choice choice)
    {
        foreach (var call in calls.EnumerateArray())
        {
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("index"u8, out var indexElement)
                || !indexElement.TryGetInt32(out int index) || index is < 0 or > 1024)
            {
                return false;
            }

            if (!choice.ToolCalls.TryGetValue(index, out var tool))
            {
                tool = new ToolCall();
                choice.ToolCalls.Add(index, tool);
            }

            foreach (var field in call.EnumerateObject())
            {
                var value = field.Value;
                if (field.NameEquals("index"u8) || value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (field.NameEquals("id"u8) && value.ValueKind == JsonValueKind.String)
                {
                    tool.Id ??= Raw(value);
                }
                else if (field.NameEquals("type"u8) && value.ValueKind == JsonValueKind.String)
                {
                    tool.Type ??= Raw(value);
                }
                else if (field.NameEquals("function"u8) && value.ValueKind == JsonValueKind.Object)
                {
                    foreach (var part in value.EnumerateObject())
                    {
                        if (part.Value.ValueKind == JsonValueKind.Null)
                        {
                            continue;
                        }

                        if (part.Value.ValueKind != JsonValueKind.String || !(part.NameEquals("name"u8) || part.NameEquals("arguments"u8)))
                        {
                            return false;
                        }

                        Append(part.NameEquals("name"u8) ? tool.Name : tool.Arguments, part.Value);
                    }
                }
                else
                {
                    return false;
                }
            }
        }

        return true;
    }

    private void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        WriteRaw(json, "id", _id);
        json.WriteString("object", _chat ? "chat.completion" : "text_completion");
        WriteRaw(json, "created", _created);
        WriteRaw(json, "model", _model);
        json.WriteStartArray("choices");
        foreach (var (index, choice) in _choices)
        {
            json.WriteStartObject();
            json.WriteNumber("index", index);
            if (_chat)
            {
                WriteMessage(json, choice);
                WriteLogProbs(json, choice);
            }
            else
            {
                WriteText(json, "text", choice.Text("text"));
                json.WriteNull("logprobs");
            }

            WriteRaw(json, "finish_reason", choice.FinishReason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        WriteRaw(json, "usage", _usage);
        if (_fingerprint is not null)
        {
            WriteRaw(json, "system_fingerprint", _fingerprint);
        }

        if (_serviceTier is not null)
        {
            WriteRaw(json, "service_tier", _serviceTier);
        }

        json.WriteEndObject();
    }

    private static void WriteMessage(Utf8JsonWriter json, Choice choice)
    {
        json.WriteStartObject("message");
        if (choice.Role is null)
        {
            json.WriteString("role", "assistant");
        }
        else
        {
            WriteRaw(json, "role", choice.Role);
        }

        if (!choice.HasText("content"))
        {
            json.WriteNull("content");
        }

        foreach (var (name, text) in choice.Texts)
        {
            if (text is null)
            {
                json.WriteNull(name);
            }
            else
            {
                WriteText(json, name, text);
            }
        }

        if (choice.ToolCalls.Count > 0)
        {
            json.WriteStartArray("tool_calls");
            foreach (var tool in choice.ToolCalls.Values)
            {
                json.WriteStartObject();
                WriteRaw(json, "id", tool.Id);
                WriteRaw(json, "type", tool.Type ?? "\"function\""u8.ToArray());
                json.WriteStartObject("function");
                WriteText(json, "name", tool.Name);
                WriteText(json, "arguments", tool.Arguments);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static void WriteLogProbs(Utf8JsonWriter json, Choice choice)
    {
        if (choice.LogProbParts.Count == 0)
        {
            json.WriteNull("logprobs");
            return;
        }

        json.WriteStartObject("logprobs");
        foreach (var (name, tokens) in choice.LogProbParts)
        {
            json.WriteStartArray(name);
            foreach (byte[] token in tokens)
            {
                json.WriteRawValue(token, skipInputValidation: true);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static void WriteText(Utf8JsonWriter json, string name, ArrayBufferWriter<byte> content)
    {
        byte[] quoted = new byte[content.WrittenCount + 2];
        quoted[0] = (byte)'"';
        content.WrittenSpan.CopyTo(quoted.AsSpan(1));
        quoted[^1] = (byte)'"';
        json.WritePropertyName(name);
        json.WriteRawValue(quoted, skipInputValidation: true);
    }

    private static void WriteRaw(Utf8JsonWriter json, string name, byte[]? raw)
    {
        json.WritePropertyName(name);
        if (raw is null)
        {
            json.WriteNullValue();
        }
        else
        {
            json.WriteRawValue(raw, skipInputValidation: true);
        }
    }

    /// <summary>One choice as assembled so far.</summary>
    private sealed class Choice
    {
        // Message text fields in the order they first appeared; null while only null values arrived.
        public List<(string Name, ArrayBufferWriter<byte>? Text)> Texts { get; } = [];

        public List<(string Name, List<byte[]> Tokens)> LogProbParts { get; } = [];

        public SortedDictionary<int, ToolCall> ToolCalls { get; } = [];

        public byte[]? Role { get; set; }

        public byte[]? FinishReason { get; set; }

        public bool HasText(string name) => Texts.Exists(t => t.Name == name);

        public void Seen(string name)
        {
            if (!HasText(name))
            {
                Texts.Add((name, null));
            }
        }

        public ArrayBufferWriter<byte> Text(string name)
        {
            int at = Texts.FindIndex(t => t.Name == name);
            if (at >= 0 && Texts[at].Text is { } existing)
            {
                return existing;
            }

            var text = new ArrayBufferWriter<byte>();
            if (at >= 0)
            {
                Texts[at] = (name, text);
            }
            else
            {
                Texts.Add((name, text));
            }

            return text;
        }

        public List<byte[]> LogProbs(string name)
        {
            int at = LogProbParts.FindIndex(p => p.Name == name);
            if (at >= 0)
            {
                return LogProbParts[at].Tokens;
            }

            var tokens = new List<byte[]>();
            LogProbParts.Add((name, tokens));
            return tokens;
        }
    }

    /// <summary>One tool call as assembled so far.</summary>
    private sealed class ToolCall
    {
        public byte[]? Id { get; set; }

        public byte[]? Type { get; set; }

        public ArrayBufferWriter<byte> Name { get; } = new();

        public ArrayBufferWriter<byte> Arguments { get; } = new();
    }
}
