using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// A chat completions request as a Messages request. What translates: system and developer messages (gathered, in
/// order, as <c>system</c>), user, assistant and tool messages (text, images, <c>tool_calls</c> as <c>tool_use</c>,
/// each tool message as a <c>tool_result</c>; consecutive turns of one role joined, as Anthropic joins them),
/// function <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls: false</c>, <c>stop</c>, <c>temperature</c>
/// (at most 1), <c>top_p</c>, <c>top_k</c>, <c>user</c> (as <c>metadata.user_id</c>), the output cap (the admitted one,
/// as <c>max_tokens</c>, which Messages requires) and a stream. Pure hints are dropped (<c>store</c>, <c>metadata</c>,
/// <c>prompt_cache_key</c>, an image's <c>detail</c>, a message's <c>name</c>, a tool's <c>strict</c>); structured output
/// is a forced tool call (<see cref="ChatStructuredOutput"/>); anything that
/// would change the answer or its price is refused before admission, naming the field (<see cref="Check"/>).
/// </summary>
internal static class ChatToMessagesRequest
{
    private const string Api = "Anthropic's Messages";

    /// <summary>The refusal of the first field of <paramref name="root"/> that does not translate, or null.</summary>
    public static GatewayError? Check(JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            string name = property.Name;
            if (TranslationJson.IsNull(value))
            {
                continue;
            }

            var error = name switch
            {
                "model" or "max_tokens" or "max_completion_tokens" or "stream" or "stream_options" or "top_p" or "top_k" or "stop"
                    or "user" or "safety_identifier" or "store" or "metadata" or "prompt_cache_key" or "parallel_tool_calls" => null,
                "messages" => CheckMessages(value),
                "tools" => CheckTools(value),
                "tool_choice" => CheckToolChoice(value),
                "temperature" => value.ValueKind == JsonValueKind.Number && value.GetDouble() > 1
                    ? Unsupported(name, "Anthropic's temperature ranges from 0 to 1")
                    : null,
                "n" => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n == 1 ? null : Unsupported(name, "Messages gives one answer per request"),
                "logprobs" => value.ValueKind == JsonValueKind.False ? null : Unsupported(name, "Messages returns no log-probabilities"),
                "top_logprobs" => Unsupported(name, "Messages returns no log-probabilities"),
                "logit_bias" => value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any() ? null : Unsupported(name, "has no equivalent"),
                "presence_penalty" or "frequency_penalty" => value.ValueKind == JsonValueKind.Number && value.GetDouble() == 0 ? null : Unsupported(name, "has no equivalent"),
                "response_format" => ChatStructuredOutput.Check(value, root, Unsupported),
                "service_tier" => value.ValueKind == JsonValueKind.String && (value.ValueEquals("auto") || value.ValueEquals("default")) ? null : Unsupported(name, "must be auto or default"),
                "modalities" => IsTextOnly(value) ? null : Unsupported(name, "Messages answers in text only"),
                _ => Unsupported(name, "has no equivalent"),
            };
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static bool IsTextOnly(JsonElement modalities)
    {
        if (modalities.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var modality in modalities.EnumerateArray())
        {
            if (!(modality.ValueKind == JsonValueKind.String && modality.ValueEquals("text")))
            {
                return false;
            }
        }

        return true;
    }

    private static GatewayError? CheckMessages(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        int count = messages.GetArrayLength();
        int i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"messages.{i}";
            string? role = TranslationJson.String(message, "role");
            if (role is not ("system" or "developer" or "user" or "assistant" or "tool"))
            {
                return Unsupported(at + ".role", $"'{role}' messages have no equivalent");
            }

            if (role == "assistant" && i == count - 1)
            {
                return Unsupported(at, "a final assistant message would be continued by Anthropic (a prefill), not answered");
            }

            foreach (var member in message.EnumerateObject())
            {
                if (TranslationJson.IsNull(member.Value))
                {
                    continue;
                }

                var error = member.Name switch
                {
                    "role" or "name" or "tool_call_id" => null,
                    "content" => CheckContent(member.Value, at + ".content", role),
                    "tool_calls" when role == "assistant" => CheckToolCalls(member.Value, at + ".tool_calls"),
                    "refusal" when role == "assistant" => null,
                    _ => Unsupported($"{at}.{member.Name}", "has no equivalent"),
                };
                if (error is not null)
                {
                    return error;
                }
            }

            i++;
        }

        return null;
    }

    private static GatewayError? CheckContent(JsonElement content, string at, string role)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        int j = 0;
        foreach (var part in content.EnumerateArray())
        {
            string partAt = $"{at}.{j}";
            string? type = TranslationJson.String(part, "type");
            var error = type switch
            {
                "text" => null,
                "refusal" when role == "assistant" => null,
                "image_url" when role == "user" => CheckImage(part, partAt),
                _ => Unsupported(partAt + ".type", $"'{type}' parts have no equivalent in a {role} message"),
            };
            if (error is not null)
            {
                return error;
            }

            j++;
        }

        return null;
    }

    private static GatewayError? CheckImage(JsonElement part, string at)
    {
        string? url = part.TryGetProperty("image_url", out var image) ? TranslationJson.String(image, "url") : null;
        if (url is null)
        {
            return GatewayError.InvalidRequest($"{at}.image_url.url: Field required.", at + ".image_url.url");
        }

        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || DataUrl(url) is not null)
        {
            return null;
        }

        return Unsupported(at + ".image_url.url", "Anthropic takes http(s) URLs and base64 data URLs of JPEG, PNG, GIF or WebP images");
    }

    // The media type and base64 data of a data URL Anthropic takes, or null.
    internal static (string MediaType, string Data)? DataUrl(string url)
    {
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        int comma = url.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            return null;
        }

        string head = url[5..comma];
        const string Base64 = ";base64";
        if (!head.EndsWith(Base64, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string mediaType = head[..^Base64.Length].ToLowerInvariant();
        return mediaType is "image/jpeg" or "image/png" or "image/gif" or "image/webp" ? (mediaType, url[(comma + 1)..]) : null;
    }

    private static GatewayError? CheckToolCalls(JsonElement calls, string at)
    {
        if (calls.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        int k = 0;
        foreach (var call in calls.EnumerateArray())
        {
            string callAt = $"{at}.{k}";
            if (TranslationJson.String(call, "type") is not (null or "function"))
            {
                return Unsupported(callAt + ".type", "only function calls translate");
            }

            string? arguments = call.TryGetProperty("function", out var function) ? TranslationJson.String(function, "arguments") : null;
            if (ParseInput(arguments) is null)
            {
                return Unsupported(callAt + ".function.arguments", "a tool_use's input must be a JSON object");
            }

            k++;
        }

        return null;
    }

    // The arguments as a JSON object's text ("{}" for none), or null when they are not one.
    private static string? ParseInput(string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return "{}";
        }

        try
        {
            using var input = JsonDocument.Parse(arguments, TranslationJson.ReaderOptions);
            return input.RootElement.ValueKind == JsonValueKind.Object ? arguments : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static GatewayError? CheckTools(JsonElement tools)
    {
        if (tools.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        int i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            if (TranslationJson.String(tool, "type") != "function")
            {
                return Unsupported($"tools.{i}.type", "only function tools translate");
            }

            if (!tool.TryGetProperty("function", out var function) || TranslationJson.String(function, "name") is null)
            {
                return GatewayError.InvalidRequest($"tools.{i}.function.name: Field required.", $"tools.{i}.function.name");
            }

            i++;
        }

        return null;
    }

    private static GatewayError? CheckToolChoice(JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String && (choice.ValueEquals("auto") || choice.ValueEquals("none") || choice.ValueEquals("required")))
        {
            return null;
        }

        if (TranslationJson.String(choice, "type") == "function" && choice.TryGetProperty("function", out var function) && TranslationJson.String(function, "name") is not null)
        {
            return null;
        }

        return Unsupported("tool_choice", "must be auto, none, required or a named function");
    }

    private static GatewayError Unsupported(string param, string why) => TranslationJson.Unsupported(param, why, Api);

    /// <summary>Writes the Messages body for <paramref name="request"/> (already checked) into <paramref name="output"/>.</summary>
    public static void Write(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output)
    {
        var root = request.Document.RootElement;
        using var writer = new Utf8JsonWriter(output, TranslationJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("model", rewrite.Model);
        // Messages requires a cap: the admitted one.
        writer.WriteNumber("max_tokens", rewrite.Cap);
        var messages = root.GetProperty("messages");
        WriteSystem(writer, messages);
        WriteMessages(writer, messages);
        if (request.Stream)
        {
            writer.WriteBoolean("stream", true);
        }

        bool parallel = true;
        string? structured = ChatStructuredOutput.ToolName(root);
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            if (TranslationJson.IsNull(value))
            {
                continue;
            }

            switch (property.Name)
            {
                case "temperature" or "top_p" or "top_k":
                    property.WriteTo(writer);
                    break;
                case "stop":
                    writer.WriteStartArray("stop_sequences");
                    if (value.ValueKind == JsonValueKind.String)
                    {
                        writer.WriteStringValue(value.GetString());
                    }
                    else
                    {
                        foreach (var sequence in value.EnumerateArray())
                        {
                            sequence.WriteTo(writer);
                        }
                    }

                    writer.WriteEndArray();
                    break;
                case "tools" when structured is null:
                    WriteTools(writer, value);
                    break;
                case "parallel_tool_calls":
                    parallel = value.ValueKind != JsonValueKind.False;
                    break;
                default:
                    break;
            }
        }

        if ((TranslationJson.String(root, "user") ?? TranslationJson.String(root, "safety_identifier")) is { } user)
        {
            writer.WriteStartObject("metadata");
            writer.WriteString("user_id", user);
            writer.WriteEndObject();
        }

        if (structured is not null)
        {
            ChatStructuredOutput.WriteTool(writer, root, structured);
        }
        else
        {
            WriteToolChoice(writer, root, parallel);
        }

        writer.WriteEndObject();
    }

    private static void WriteSystem(Utf8JsonWriter writer, JsonElement messages)
    {
        bool any = false;
        foreach (var message in messages.EnumerateArray())
        {
            if (TranslationJson.String(message, "role") is not ("system" or "developer") || !message.TryGetProperty("content", out var content))
            {
                continue;
            }

            if (!any)
            {
                writer.WriteStartArray("system");
                any = true;
            }

            WriteTextBlocks(writer, content);
        }

        if (any)
        {
            writer.WriteEndArray();
        }
    }

    // The turns, consecutive ones of one role joined (tool results are the user's).
    private static void WriteMessages(Utf8JsonWriter writer, JsonElement messages)
    {
        writer.WriteStartArray("messages");
        string? open = null;
        foreach (var message in messages.EnumerateArray())
        {
            string? role = TranslationJson.String(message, "role");
            if (role is "system" or "developer")
            {
                continue;
            }

            string turn = role == "assistant" ? "assistant" : "user";
            if (open != turn)
            {
                if (open is not null)
                {
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WriteStartObject();
                writer.WriteString("role", turn);
                writer.WriteStartArray("content");
                open = turn;
            }

            var content = message.TryGetProperty("content", out var c) ? c : default;
            switch (role)
            {
                case "tool":
                    writer.WriteStartObject();
                    writer.WriteString("type", "tool_result");
                    writer.WriteString("tool_use_id", TranslationJson.String(message, "tool_call_id") ?? "");
                    writer.WriteString("content", Text(content));
                    writer.WriteEndObject();
                    break;
                case "assistant":
                    WriteTextBlocks(writer, content);
                    WriteToolUses(writer, message);
                    break;
                default:
                    WriteUserContent(writer, content);
                    break;
            }
        }

        if (open is not null)
        {
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    // Text (and an assistant's refusal) as text blocks; empty text is left out, as Anthropic refuses empty blocks.
    private static void WriteTextBlocks(Utf8JsonWriter writer, JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            WriteText(writer, content.GetString());
            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var part in content.EnumerateArray())
        {
            WriteText(writer, TranslationJson.String(part, "text") ?? TranslationJson.String(part, "refusal"));
        }
    }

    private static void WriteText(Utf8JsonWriter writer, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("type", "text");
        writer.WriteString("text", text);
        writer.WriteEndObject();
    }

    private static void WriteUserContent(Utf8JsonWriter writer, JsonElement content)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            WriteTextBlocks(writer, content);
            return;
        }

        foreach (var part in content.EnumerateArray())
        {
            if (TranslationJson.String(part, "type") != "image_url")
            {
                WriteText(writer, TranslationJson.String(part, "text"));
                continue;
            }

            string url = TranslationJson.String(part.GetProperty("image_url"), "url")!;
            writer.WriteStartObject();
            writer.WriteString("type", "image");
            writer.WriteStartObject("source");
            if (DataUrl(url) is var (mediaType, data))
            {
                writer.WriteString("type", "base64");
                writer.WriteString("media_type", mediaType);
                writer.WriteString("data", data);
            }
            else
            {
                writer.WriteString("type", "url");
                writer.WriteString("url", url);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }
    }

    private static void WriteToolUses(Utf8JsonWriter writer, JsonElement message)
    {
        if (!message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var call in calls.EnumerateArray())
        {
            var function = call.GetProperty("function");
            writer.WriteStartObject();
            writer.WriteString("type", "tool_use");
            writer.WriteString("id", TranslationJson.String(call, "id") ?? "");
            writer.WriteString("name", TranslationJson.String(function, "name") ?? "");
            writer.WritePropertyName("input");
            writer.WriteRawValue(ParseInput(TranslationJson.String(function, "arguments"))!, skipInputValidation: true);
            writer.WriteEndObject();
        }
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonElement tools)
    {
        writer.WriteStartArray("tools");
        foreach (var tool in tools.EnumerateArray())
        {
            var function = tool.GetProperty("function");
            writer.WriteStartObject();
            writer.WriteString("name", TranslationJson.String(function, "name"));
            if (TranslationJson.String(function, "description") is { } description)
            {
                writer.WriteString("description", description);
            }

            writer.WritePropertyName("input_schema");
            if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
            {
                parameters.WriteTo(writer);
            }
            else
            {
                // A function without parameters takes none; Messages requires a schema.
                writer.WriteStartObject();
                writer.WriteString("type", "object");
                writer.WriteStartObject("properties");
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteToolChoice(Utf8JsonWriter writer, JsonElement root, bool parallel)
    {
        bool hasChoice = root.TryGetProperty("tool_choice", out var choice) && !TranslationJson.IsNull(choice);
        bool hasTools = root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
        if (!hasChoice && (parallel || !hasTools))
        {
            return;
        }

        writer.WriteStartObject("tool_choice");
        bool named = hasChoice && choice.ValueKind == JsonValueKind.Object;
        bool none = hasChoice && choice.ValueKind == JsonValueKind.String && choice.ValueEquals("none");
        if (!hasChoice || (choice.ValueKind == JsonValueKind.String && choice.ValueEquals("auto")))
        {
            writer.WriteString("type", "auto");
        }
        else if (!named)
        {
            writer.WriteString("type", none ? "none" : "any");
        }
        else
        {
            writer.WriteString("type", "tool");
            writer.WriteString("name", TranslationJson.String(choice.GetProperty("function"), "name"));
        }

        if (!parallel && hasTools && !none)
        {
            writer.WriteBoolean("disable_parallel_tool_use", true);
        }

        writer.WriteEndObject();
    }

    // A tool message's text: a string, or its text parts joined.
    private static string Text(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var text = new System.Text.StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            text.Append(TranslationJson.String(part, "text"));
        }

        return text.ToString();
    }
}
