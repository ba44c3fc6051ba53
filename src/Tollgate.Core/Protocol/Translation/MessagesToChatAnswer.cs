using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// A Messages answer as a chat completion: its text blocks joined as the message's <c>content</c> (null when there are
/// none), each <c>tool_use</c> block as a tool call (its input's JSON as the arguments), the stop reason as the finish
/// reason, and the bill as the usage in OpenAI's shape. Thinking blocks are left out (their tokens are billed as output).
/// The call of a structured output's tool (<see cref="ChatStructuredOutput"/>) is the content, and its finish is <c>stop</c>.
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
        string? structured = ChatStructuredOutput.ToolName(request.Document.RootElement);
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
            string text = Text(content, structured);
            if (text.Length > 0)
            {
                writer.WriteString("content", text);
            }
            else
            {
                writer.WriteNull("content");
            }

            writer.WriteNull("refusal");
            TranslationJson.WriteToolCalls(writer, content, structured);
            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            string? stopReason = TranslationJson.String(root, "stop_reason");
            writer.WriteString("finish_reason", structured is null ? TranslationJson.FinishReason(stopReason) : ChatStructuredOutput.FinishReason(stopReason));
            writer.WriteEndObject();
            writer.WriteEndArray();
            TranslationJson.WriteOpenAIUsage(writer, usage);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A chat completion id for a message's id.</summary>
    public static string CompletionId(string? messageId) => "chatcmpl-" + (string.IsNullOrEmpty(messageId) ? "tollgate" : messageId);

    // The text blocks, and the input of the structured output's tool call (the answer the caller asked for as JSON).
    private static string Text(JsonElement content, string? structured)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var text = new System.Text.StringBuilder();
        foreach (var block in content.EnumerateArray())
        {
            string? type = TranslationJson.String(block, "type");
            if (type == "text")
            {
                text.Append(TranslationJson.String(block, "text"));
            }
            else if (type == "tool_use" && structured is not null && TranslationJson.String(block, "name") == structured
                && block.TryGetProperty("input", out var input))
            {
                text.Append(input.GetRawText());
            }
        }

        return text.ToString();
    }
}
