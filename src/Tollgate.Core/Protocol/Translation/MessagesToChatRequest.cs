using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// A Messages request as a chat completions request. What translates: <c>system</c> (its text blocks joined, as the
/// first message), user and assistant turns (text, images, <c>tool_use</c> as <c>tool_calls</c>, each
/// <c>tool_result</c> as a <c>tool</c> message), <c>tools</c> and <c>tool_choice</c>, <c>stop_sequences</c>,
/// <c>temperature</c>, <c>top_p</c>, <c>top_k</c>, <c>metadata.user_id</c> (as <c>user</c>), the output cap (the admitted
/// one, in the model's chat cap field) and a stream, which always asks for usage. Pure hints are dropped
/// (<c>cache_control</c>, <c>citations</c>, adaptive <c>thinking</c>, earlier turns' thinking blocks and <c>context_management</c>'s clearing of them, a tool result's <c>is_error</c>); anything
/// that would change the answer or its price is refused before admission, naming the field (<see cref="Check"/>).
/// </summary>
internal static class MessagesToChatRequest
{
    private const string Api = "OpenAI's chat completions";

    /// <summary>The refusal of the first field of <paramref name="root"/> that does not translate, or null.</summary>
    public static GatewayError? Check(JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            string name = property.Name;
            switch (name)
            {
                case "model" or "max_tokens" or "stream" or "temperature" or "top_p" or "top_k" or "stop_sequences" or "system":
                    break;
                case "messages":
                    if (CheckMessages(value) is { } messagesError)
                    {
                        return messagesError;
                    }

                    break;
                case "metadata":
                    if (!TranslationJson.IsNull(value) && value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var member in value.EnumerateObject())
                        {
                            if (!member.NameEquals("user_id"u8))
                            {
                                return Unsupported($"metadata.{member.Name}", "has no equivalent");
                            }
                        }
                    }

                    break;
                case "tools":
                    if (CheckTools(value) is { } toolsError)
                    {
                        return toolsError;
                    }

                    break;
                case "tool_choice":
                    if (!TranslationJson.IsNull(value) && TranslationJson.String(value, "type") is not ("auto" or "any" or "tool" or "none"))
                    {
                        return Unsupported("tool_choice.type", "must be auto, any, tool or none");
                    }

                    break;
                case "thinking":
                    // Adaptive thinking leaves it to the model whether to think: a chat model thinks (or not) its own
                    // way, and its reasoning is billed as the output it is. A budget to think within has no equivalent.
                    if (!TranslationJson.IsNull(value) && TranslationJson.String(value, "type") is not ("disabled" or "adaptive"))
                    {
                        return Unsupported("thinking", "extended thinking with a budget has no equivalent (send it disabled or adaptive)");
                    }

                    break;
                case "context_management":
                    if (CheckContextManagement(value) is { } contextError)
                    {
                        return contextError;
                    }

                    break;
                case "service_tier":
                    // Both of Anthropic's values ask for no more than the standard capacity a chat request gets.
                    if (!TranslationJson.IsNull(value) && !(value.ValueKind == JsonValueKind.String && (value.ValueEquals("auto") || value.ValueEquals("standard_only"))))
                    {
                        return Unsupported("service_tier", "must be auto or standard_only");
                    }

                    break;
                default:
                    if (!TranslationJson.IsNull(value))
                    {
                        return Unsupported(name, "has no equivalent");
                    }

                    break;
            }
        }

        return null;
    }

    // Clearing earlier turns' thinking (what Claude Code asks for) is done already: no thinking block is translated.
    // Other edits (clearing tool results) would change what the model reads.
    private static GatewayError? CheckContextManagement(JsonElement value)
    {
        if (TranslationJson.IsNull(value) || !value.TryGetProperty("edits", out var edits) || edits.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        int i = 0;
        foreach (var edit in edits.EnumerateArray())
        {
            if (TranslationJson.String(edit, "type") is not { } type || !type.StartsWith("clear_thinking_", StringComparison.Ordinal))
            {
                return Unsupported($"context_management.edits.{i}", "only clearing earlier turns' thinking translates (no thinking block is sent to chat completions)");
            }

            i++;
        }

        return null;
    }

    private static GatewayError? CheckMessages(JsonElement messages)
    {
        int count = messages.GetArrayLength();
        int i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"messages.{i}";
            bool assistant = TranslationJson.String(message, "role") == "assistant";
            if (assistant && i == count - 1)
            {
                return Unsupported(at, "a final assistant message is continued by Anthropic (a prefill), which chat completions cannot do");
            }

            var content = message.GetProperty("content");
            if (content.ValueKind == JsonValueKind.Array)
            {
                int j = 0;
                foreach (var block in content.EnumerateArray())
                {
                    if (CheckBlock(block, $"{at}.content.{j}", assistant) is { } blockError)
                    {
                        return blockError;
                    }

                    j++;
                }
            }

            i++;
        }

        return null;
    }

    private static GatewayError? CheckBlock(JsonElement block, string at, bool assistant)
    {
        string? type = TranslationJson.String(block, "type");
        switch (type)
        {
            case "text":
                return null;
            case "image" when !assistant:
                return CheckImage(block, at);
            case "tool_result" when !assistant:
                if (block.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
                {
                    int k = 0;
                    foreach (var part in content.EnumerateArray())
                    {
                        string partAt = $"{at}.content.{k}";
                        string? partType = TranslationJson.String(part, "type");
                        if (partType == "image")
                        {
                            if (CheckImage(part, partAt) is { } imageError)
                            {
                                return imageError;
                            }
                        }
                        else if (partType != "text")
                        {
                            return Unsupported(partAt + ".type", $"a tool result's '{partType}' block has no equivalent");
                        }

                        k++;
                    }
                }

                return null;
            case "tool_use" or "thinking" or "redacted_thinking" when assistant:
                return null;
            case "document":
                return Unsupported(at, "document blocks have no equivalent");
            default:
                return Unsupported(at + ".type", $"'{type}' blocks have no equivalent in {(assistant ? "an assistant" : "a user")} message");
        }
    }

    private static GatewayError? CheckImage(JsonElement block, string at)
    {
        if (!block.TryGetProperty("source", out var source) || TranslationJson.String(source, "type") is not ("base64" or "url"))
        {
            return Unsupported(at + ".source", "only base64 and url images translate (an image_url part)");
        }

        return null;
    }

    private static GatewayError? CheckTools(JsonElement tools)
    {
        if (TranslationJson.IsNull(tools))
        {
            return null;
        }

        int i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            string? type = TranslationJson.String(tool, "type");
            if (type is not (null or "custom"))
            {
                return Unsupported($"tools.{i}.type", $"Anthropic's server tool '{type}' has no equivalent (only client tools, which become functions)");
            }

            if (TranslationJson.String(tool, "name") is null)
            {
                return GatewayError.InvalidRequest($"tools.{i}.name: Field required.", $"tools.{i}.name");
            }

            i++;
        }

        return null;
    }

    private static GatewayError Unsupported(string param, string why) => TranslationJson.Unsupported(param, why, Api);

    /// <summary>Writes the chat completions body for <paramref name="request"/> (already checked) into <paramref name="output"/>.</summary>
    public static void Write(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output)
    {
        var root = request.Document.RootElement;
        using var writer = new Utf8JsonWriter(output, TranslationJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("model", rewrite.Model);
        writer.WriteStartArray("messages");
        if (root.TryGetProperty("system", out var system) && !TranslationJson.IsNull(system))
        {
            writer.WriteStartObject();
            writer.WriteString("role", "system");
            writer.WriteString("content", JoinText(system, "\n\n"));
            writer.WriteEndObject();
        }

        foreach (var message in root.GetProperty("messages").EnumerateArray())
        {
            if (TranslationJson.String(message, "role") == "assistant")
            {
                WriteAssistant(writer, message.GetProperty("content"));
            }
            else
            {
                WriteUser(writer, message.GetProperty("content"));
            }
        }

        writer.WriteEndArray();
        // Messages always names its cap; a chat upstream gets the admitted one in the model's own cap field.
        writer.WriteNumber(rewrite.ChatCapField, rewrite.Cap);
        if (request.Stream)
        {
            writer.WriteBoolean("stream", true);
            writer.WriteStartObject("stream_options");
            writer.WriteBoolean("include_usage", true);
            writer.WriteEndObject();
        }

        foreach (var property in root.EnumerateObject())
        {
            if (TranslationJson.IsNull(property.Value))
            {
                continue;
            }

            switch (property.Name)
            {
                case "temperature" or "top_p" or "top_k":
                    property.WriteTo(writer);
                    break;
                case "stop_sequences":
                    writer.WritePropertyName("stop");
                    property.Value.WriteTo(writer);
                    break;
                case "metadata":
                    if (TranslationJson.String(property.Value, "user_id") is { } user)
                    {
                        writer.WriteString("user", user);
                    }

                    break;
                case "tools":
                    WriteTools(writer, property.Value);
                    break;
                case "tool_choice":
                    WriteToolChoice(writer, property.Value, root);
                    break;
                default:
                    break;
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonElement tools)
    {
        writer.WriteStartArray("tools");
        foreach (var tool in tools.EnumerateArray())
        {
            writer.WriteStartObject();
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", TranslationJson.String(tool, "name"));
            if (TranslationJson.String(tool, "description") is { } description)
            {
                writer.WriteString("description", description);
            }

            if (tool.TryGetProperty("input_schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
            {
                writer.WritePropertyName("parameters");
                schema.WriteTo(writer);
            }

            if (tool.TryGetProperty("strict", out var strict) && strict.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                writer.WriteBoolean("strict", strict.GetBoolean());
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteToolChoice(Utf8JsonWriter writer, JsonElement choice, JsonElement root)
    {
        writer.WritePropertyName("tool_choice");
        switch (TranslationJson.String(choice, "type"))
        {
            case "any":
                writer.WriteStringValue("required");
                break;
            case "none":
                writer.WriteStringValue("none");
                break;
            case "tool":
                writer.WriteStartObject();
                writer.WriteString("type", "function");
                writer.WriteStartObject("function");
                writer.WriteString("name", TranslationJson.String(choice, "name") ?? "");
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
            default:
                writer.WriteStringValue("auto");
                break;
        }

        if (choice.TryGetProperty("disable_parallel_tool_use", out var disable) && disable.ValueKind == JsonValueKind.True
            && root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
        {
            writer.WriteBoolean("parallel_tool_calls", false);
        }
    }

    // A user turn: each tool result becomes a tool message (first, as Anthropic puts them first), then the rest of the
    // turn as a user message, in order — text, images, and the images the tool results held (a tool message carries text only).
    private static void WriteUser(Utf8JsonWriter writer, JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartObject();
            writer.WriteString("role", "user");
            writer.WriteString("content", content.GetString());
            writer.WriteEndObject();
            return;
        }

        int parts = 0, texts = 0;
        foreach (var block in content.EnumerateArray())
        {
            switch (TranslationJson.String(block, "type"))
            {
                case "tool_result":
                    writer.WriteStartObject();
                    writer.WriteString("role", "tool");
                    writer.WriteString("tool_call_id", TranslationJson.String(block, "tool_use_id") ?? "");
                    writer.WriteString("content", block.TryGetProperty("content", out var result) ? JoinText(result, "\n") : "");
                    writer.WriteEndObject();
                    parts += CountImages(block);
                    break;
                case "text":
                    parts++;
                    texts++;
                    break;
                case "image":
                    parts++;
                    break;
                default:
                    break;
            }
        }

        if (parts == 0)
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("role", "user");
        if (parts == 1 && texts == 1)
        {
            writer.WriteString("content", JoinText(content, ""));
            writer.WriteEndObject();
            return;
        }

        writer.WriteStartArray("content");
        foreach (var block in content.EnumerateArray())
        {
            switch (TranslationJson.String(block, "type"))
            {
                case "text":
                    writer.WriteStartObject();
                    writer.WriteString("type", "text");
                    writer.WriteString("text", TranslationJson.String(block, "text") ?? "");
                    writer.WriteEndObject();
                    break;
                case "image":
                    WriteImage(writer, block);
                    break;
                case "tool_result" when block.TryGetProperty("content", out var result) && result.ValueKind == JsonValueKind.Array:
                    foreach (var part in result.EnumerateArray())
                    {
                        if (TranslationJson.String(part, "type") == "image")
                        {
                            WriteImage(writer, part);
                        }
                    }

                    break;
                default:
                    break;
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static int CountImages(JsonElement toolResult)
    {
        int images = 0;
        if (toolResult.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in content.EnumerateArray())
            {
                images += TranslationJson.String(part, "type") == "image" ? 1 : 0;
            }
        }

        return images;
    }

    private static void WriteImage(Utf8JsonWriter writer, JsonElement block)
    {
        var source = block.GetProperty("source");
        writer.WriteStartObject();
        writer.WriteString("type", "image_url");
        writer.WriteStartObject("image_url");
        writer.WriteString("url", TranslationJson.String(source, "type") == "url"
            ? TranslationJson.String(source, "url") ?? ""
            : $"data:{TranslationJson.String(source, "media_type")};base64,{TranslationJson.String(source, "data")}");
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    // An assistant turn: its text joined, its tool uses as tool calls (arguments: the input's JSON); thinking dropped.
    private static void WriteAssistant(Utf8JsonWriter writer, JsonElement content)
    {
        writer.WriteStartObject();
        writer.WriteString("role", "assistant");
        if (content.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("content", content.GetString());
            writer.WriteEndObject();
            return;
        }

        string text = JoinText(content, "\n\n");
        if (text.Length > 0)
        {
            writer.WriteString("content", text);
        }
        else
        {
            writer.WriteNull("content");
        }

        TranslationJson.WriteToolCalls(writer, content);
        writer.WriteEndObject();
    }

    // A string, or the text of an array's text blocks joined with the separator.
    private static string JoinText(JsonElement content, string separator)
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
        foreach (var block in content.EnumerateArray())
        {
            if (TranslationJson.String(block, "type") == "text" && TranslationJson.String(block, "text") is { } piece)
            {
                if (text.Length > 0)
                {
                    text.Append(separator);
                }

                text.Append(piece);
            }
        }

        return text.ToString();
    }
}
