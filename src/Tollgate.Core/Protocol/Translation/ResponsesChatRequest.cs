using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// Writes the chat completions request that stands for a Responses request (checked by
/// <see cref="ResponsesTranslationCheck"/>): <c>instructions</c> and <c>system</c> / <c>developer</c> messages become
/// system messages; user and assistant messages keep their text and images; a run of <c>function_call</c> items
/// becomes one assistant message's <c>tool_calls</c> and each <c>function_call_output</c> a <c>tool</c> message;
/// function tools (those of a <c>namespace</c> flattened), <c>tool_choice</c>, <c>parallel_tool_calls</c>,
/// <c>text.format</c> (as <c>response_format</c>), <c>reasoning.effort</c>, sampling and log-probability options carry
/// over; the admitted output cap goes in the model's chat cap field, and a stream always asks for its usage. Reasoning
/// items are dropped (a chat model takes no reasoning back), and so are fields that only matter to a stored response
/// (<c>store</c>, <c>metadata</c>) or to the Responses API itself.
/// </summary>
internal static class ResponsesChatRequest
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Fields whose value means the same in chat completions and is copied as sent.
    private static readonly string[] s_copied = ["temperature", "top_p", "parallel_tool_calls", "user", "safety_identifier", "prompt_cache_key", "service_tier"];

    /// <summary>Writes the chat body for <paramref name="request"/> into <paramref name="output"/>.</summary>
    public static void Write(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output)
    {
        var root = request.Document.RootElement;
        using var json = new Utf8JsonWriter(output, s_options);
        json.WriteStartObject();
        json.WriteString("model", rewrite.Model);
        json.WritePropertyName("messages");
        WriteMessages(json, root);
        WriteTools(json, root);
        foreach (string name in s_copied)
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                json.WritePropertyName(name);
                value.WriteTo(json);
            }
        }

        WriteFormat(json, root);
        if (root.TryGetProperty("reasoning", out var reasoning) && reasoning.ValueKind == JsonValueKind.Object
            && reasoning.TryGetProperty("effort", out var effort) && effort.ValueKind == JsonValueKind.String)
        {
            json.WritePropertyName("reasoning_effort");
            effort.WriteTo(json);
        }

        WriteLogprobs(json, root);
        if (rewrite.Cap > 0)
        {
            // The admitted cap, always: the caller's max_output_tokens, or the one admission chose.
            json.WriteNumber(rewrite.ChatCapField, rewrite.Cap);
        }
        else if (request.MaxTokens is { } asked)
        {
            json.WriteNumber(rewrite.ChatCapField, asked);
        }

        if (request.Stream)
        {
            // The bill is the upstream's: a chat stream reports usage only when asked.
            json.WriteBoolean("stream", true);
            json.WriteStartObject("stream_options");
            json.WriteBoolean("include_usage", true);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static void WriteMessages(Utf8JsonWriter json, JsonElement root)
    {
        json.WriteStartArray();
        if (root.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String && instructions.GetString()!.Length > 0)
        {
            json.WriteStartObject();
            json.WriteString("role", "system");
            json.WritePropertyName("content");
            instructions.WriteTo(json);
            json.WriteEndObject();
        }

        var input = root.GetProperty("input");
        if (input.ValueKind == JsonValueKind.String)
        {
            json.WriteStartObject();
            json.WriteString("role", "user");
            json.WritePropertyName("content");
            input.WriteTo(json);
            json.WriteEndObject();
        }
        else
        {
            var turn = new AssistantTurn();
            foreach (var item in input.EnumerateArray())
            {
                WriteItem(json, item, turn);
            }

            turn.Flush(json);
        }

        json.WriteEndArray();
    }

    private static void WriteItem(Utf8JsonWriter json, JsonElement item, AssistantTurn turn)
    {
        switch (ResponsesFunctionTools.TypeOf(item))
        {
            case null or "message":
                string role = item.GetProperty("role").GetString()!;
                if (role == "assistant")
                {
                    turn.AddMessage(json, item.GetProperty("content"));
                    return;
                }

                turn.Flush(json);
                WriteMessage(json, role is "system" or "developer" ? "system" : role, item.GetProperty("content"));
                return;
            case "function_call":
                turn.Calls.Add(item);
                return;
            case "function_call_output":
                turn.Flush(json);
                json.WriteStartObject();
                json.WriteString("role", "tool");
                json.WritePropertyName("tool_call_id");
                item.GetProperty("call_id").WriteTo(json);
                json.WritePropertyName("content");
                WriteText(json, item.GetProperty("output"));
                json.WriteEndObject();
                return;
            default:
                // Reasoning items: a chat model takes no reasoning back.
                return;
        }
    }

    // A user or system message: a string as sent; parts as chat parts for a user (text and images), as one string for
    // a system message (servers' chat templates expect a system prompt as text).
    private static void WriteMessage(Utf8JsonWriter json, string role, JsonElement content)
    {
        json.WriteStartObject();
        json.WriteString("role", role);
        json.WritePropertyName("content");
        if (content.ValueKind == JsonValueKind.String || role != "user")
        {
            WriteText(json, content);
        }
        else
        {
            json.WriteStartArray();
            foreach (var part in content.EnumerateArray())
            {
                json.WriteStartObject();
                if (ResponsesFunctionTools.TypeOf(part) == "input_image")
                {
                    json.WriteString("type", "image_url");
                    json.WriteStartObject("image_url");
                    json.WritePropertyName("url");
                    part.GetProperty("image_url").WriteTo(json);
                    if (part.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
                    {
                        json.WritePropertyName("detail");
                        detail.WriteTo(json);
                    }

                    json.WriteEndObject();
                }
                else
                {
                    json.WriteString("type", "text");
                    json.WritePropertyName("text");
                    part.GetProperty("text").WriteTo(json);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    // A string as sent; the text of parts (input_text, output_text) joined into one string.
    private static void WriteText(Utf8JsonWriter json, JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            content.WriteTo(json);
            return;
        }

        json.WriteStringValue(JoinText(content, "text"));
    }

    private static string JoinText(JsonElement parts, string field)
    {
        var text = new System.Text.StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            if (part.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String)
            {
                if (text.Length > 0)
                {
                    text.Append('\n');
                }

                text.Append(value.GetString());
            }
        }

        return text.ToString();
    }

    private static void WriteTools(Utf8JsonWriter json, JsonElement root)
    {
        var tools = ResponsesFunctionTools.Of(root);
        if (tools.Count > 0)
        {
            json.WriteStartArray("tools");
            foreach (var tool in tools)
            {
                json.WriteStartObject();
                json.WriteString("type", "function");
                json.WriteStartObject("function");
                foreach (var property in tool.Definition.EnumerateObject())
                {
                    if (property.NameEquals("name") || property.NameEquals("description") || property.NameEquals("parameters") || property.NameEquals("strict"))
                    {
                        property.WriteTo(json);
                    }
                }

                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        if (root.TryGetProperty("tool_choice", out var choice) && choice.ValueKind != JsonValueKind.Null)
        {
            json.WritePropertyName("tool_choice");
            if (choice.ValueKind == JsonValueKind.Object)
            {
                json.WriteStartObject();
                json.WriteString("type", "function");
                json.WriteStartObject("function");
                json.WritePropertyName("name");
                choice.GetProperty("name").WriteTo(json);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            else
            {
                choice.WriteTo(json);
            }
        }
    }

    // text.format json_object / json_schema → response_format; text (the default) needs none. text.verbosity → verbosity.
    private static void WriteFormat(Utf8JsonWriter json, JsonElement root)
    {
        if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (text.TryGetProperty("verbosity", out var verbosity) && verbosity.ValueKind == JsonValueKind.String)
        {
            json.WritePropertyName("verbosity");
            verbosity.WriteTo(json);
        }

        if (!text.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        switch (ResponsesFunctionTools.TypeOf(format))
        {
            case "json_object":
                json.WriteStartObject("response_format");
                json.WriteString("type", "json_object");
                json.WriteEndObject();
                break;
            case "json_schema":
                json.WriteStartObject("response_format");
                json.WriteString("type", "json_schema");
                json.WriteStartObject("json_schema");
                foreach (var property in format.EnumerateObject())
                {
                    if (!property.NameEquals("type"))
                    {
                        property.WriteTo(json);
                    }
                }

                json.WriteEndObject();
                json.WriteEndObject();
                break;
            default:
                break;
        }
    }

    // top_logprobs, or include of message.output_text.logprobs: chat's logprobs (and top_logprobs when above zero).
    private static void WriteLogprobs(Utf8JsonWriter json, JsonElement root)
    {
        bool wanted = false;
        if (root.TryGetProperty("include", out var include) && include.ValueKind == JsonValueKind.Array)
        {
            foreach (var value in include.EnumerateArray())
            {
                wanted |= value.ValueKind == JsonValueKind.String && value.ValueEquals("message.output_text.logprobs");
            }
        }

        int top = root.TryGetProperty("top_logprobs", out var topElement) && topElement.ValueKind == JsonValueKind.Number ? topElement.GetInt32() : 0;
        if (wanted || top > 0)
        {
            json.WriteBoolean("logprobs", true);
            if (top > 0)
            {
                json.WriteNumber("top_logprobs", top);
            }
        }
    }

    // The assistant's side of a turn: its text and the function calls that follow, one chat message.
    private sealed class AssistantTurn
    {
        private string? _text;
        private string? _refusal;

        public List<JsonElement> Calls { get; } = [];

        public void AddMessage(Utf8JsonWriter json, JsonElement content)
        {
            if (Calls.Count > 0)
            {
                // Text after the calls starts another assistant message.
                Flush(json);
            }

            string text = content.ValueKind == JsonValueKind.String ? content.GetString()! : JoinText(content, "text");
            _text = _text is null ? text : _text + "\n" + text;
            if (content.ValueKind == JsonValueKind.Array && JoinText(content, "refusal") is { Length: > 0 } refusal)
            {
                _refusal = _refusal is null ? refusal : _refusal + "\n" + refusal;
            }
        }

        public void Flush(Utf8JsonWriter json)
        {
            if (_text is null && _refusal is null && Calls.Count == 0)
            {
                return;
            }

            json.WriteStartObject();
            json.WriteString("role", "assistant");
            if (_text is { Length: > 0 } || Calls.Count == 0)
            {
                json.WriteString("content", _text ?? "");
            }
            else
            {
                json.WriteNull("content");
            }

            if (_refusal is not null)
            {
                json.WriteString("refusal", _refusal);
            }

            if (Calls.Count > 0)
            {
                json.WriteStartArray("tool_calls");
                foreach (var call in Calls)
                {
                    json.WriteStartObject();
                    json.WritePropertyName("id");
                    call.GetProperty("call_id").WriteTo(json);
                    json.WriteString("type", "function");
                    json.WriteStartObject("function");
                    json.WritePropertyName("name");
                    call.GetProperty("name").WriteTo(json);
                    json.WritePropertyName("arguments");
                    call.GetProperty("arguments").WriteTo(json);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
            _text = null;
            _refusal = null;
            Calls.Clear();
        }
    }
}
