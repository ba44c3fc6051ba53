using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// A Messages answer as a chat completion: its text blocks joined as the message's <c>content</c> (null when there are
/// none), each <c>tool_use</c> block as a tool call (its input's JSON as the arguments), the stop reason as the finish
/// reason, and the bill as the usage in OpenAI's shape. Thinking blocks are left out (their tokens are billed as output).
/// </summary>
internal static class MessagesToChatAnswer
{
    /// <summary>The chat completion for <paramref name="body"/>, a Messages answer (already read as well-formed JSON).</summary>
    public static byte[] Write(ReadOnlySpan<byte> body, ModelRequest request, in TranslatedUsage usage, long created)
    {
        var buffer = new ArrayBufferWriter<byte>(body.Length + 256);
        using var document = JsonDocument.Parse(body.ToArray(), TranslationJson.ReaderOptions);
        var root = document.RootElement;
        var content = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.Array ? c : default;
        using (var writer = new Utf8JsonWriter(buffer, TranslationJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", CompletionId(TranslationJson.String(root, "id")));
            writer.WriteString("object", "chat.completion");
            writer.WriteNumber("created", created);
            writer.WriteString("model", request.Model);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            string text = Text(content);
            if (text.Length > 0)
            {
                writer.WriteString("content", text);
            }
            else
            {
                writer.WriteNull("content");
            }

            writer.WriteNull("refusal");
            WriteToolCalls(writer, content);
            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            writer.WriteString("finish_reason", TranslationJson.FinishReason(TranslationJson.String(root, "stop_reason")));
            writer.WriteEndObject();
            writer.WriteEndArray();
            TranslationJson.WriteOpenAIUsage(writer, usage);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A chat completion id for a message's id.</summary>
    public static string CompletionId(string? messageId) => "chatcmpl-" + (string.IsNullOrEmpty(messageId) ? "tollgate" : messageId);

    private static string Text(JsonElement content)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var text = new System.Text.StringBuilder();
        foreach (var block in content.EnumerateArray())
        {
            if (TranslationJson.String(block, "type") == "text")
            {
                text.Append(TranslationJson.String(block, "text"));
            }
        }

        return text.ToString();
    }

    private static void WriteToolCalls(Utf8JsonWriter writer, JsonElement content)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        bool any = false;
        foreach (var block in content.EnumerateArray())
        {
            if (TranslationJson.String(block, "type") != "tool_use")
            {
                continue;
            }

            if (!any)
            {
                writer.WriteStartArray("tool_calls");
                any = true;
            }

            writer.WriteStartObject();
            writer.WriteString("id", TranslationJson.String(block, "id") ?? "");
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", TranslationJson.String(block, "name") ?? "");
            writer.WriteString("arguments", block.TryGetProperty("input", out var input) ? input.GetRawText() : "{}");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        if (any)
        {
            writer.WriteEndArray();
        }
    }
}
