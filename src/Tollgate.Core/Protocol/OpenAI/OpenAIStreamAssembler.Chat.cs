using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>Reading a chat stream: deltas, tool calls and log-probabilities into their choice.</summary>
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
}
