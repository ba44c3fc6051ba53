using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// A chat completion as a Messages answer: the first choice's text as a text block (a refusal's text too), each tool
/// call as a <c>tool_use</c> block (its arguments parsed as the input; arguments that are not a JSON object give an
/// empty input), the finish reason as the stop reason, and the bill as the usage. Reasoning text that some servers
/// return (<c>reasoning_content</c>) is not relayed: Anthropic's thinking blocks carry a signature it cannot have.
/// </summary>
internal static class ChatToMessagesAnswer
{
    /// <summary>The message for <paramref name="body"/>, a chat completion (already read as well-formed JSON).</summary>
    public static byte[] Write(ReadOnlySpan<byte> body, ModelRequest request, in TranslatedUsage usage)
    {
        var buffer = new ArrayBufferWriter<byte>(body.Length + 256);
        using var document = JsonDocument.Parse(body.ToArray(), TranslationJson.ReaderOptions);
        var root = document.RootElement;
        var choice = FirstChoice(root);
        var message = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("message", out var m) ? m : default;
        using (var writer = new Utf8JsonWriter(buffer, TranslationJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", MessageId(TranslationJson.String(root, "id")));
            writer.WriteString("type", "message");
            writer.WriteString("role", "assistant");
            writer.WriteString("model", request.Model);
            writer.WriteStartArray("content");
            string? text = TranslationJson.String(message, "content");
            if (string.IsNullOrEmpty(text))
            {
                text = TranslationJson.String(message, "refusal");
            }

            if (!string.IsNullOrEmpty(text))
            {
                writer.WriteStartObject();
                writer.WriteString("type", "text");
                writer.WriteString("text", text);
                writer.WriteEndObject();
            }

            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    WriteToolUse(writer, call);
                }
            }

            writer.WriteEndArray();
            var (stopReason, stopSequence) = Stop(choice, request);
            writer.WriteString("stop_reason", stopReason);
            if (stopSequence is null)
            {
                writer.WriteNull("stop_sequence");
            }
            else
            {
                writer.WriteString("stop_sequence", stopSequence);
            }

            writer.WriteStartObject("usage");
            TranslationJson.WriteAnthropicUsage(writer, usage);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A Messages id for a chat completion's id.</summary>
    public static string MessageId(string? chatId) => "msg_" + (string.IsNullOrEmpty(chatId) ? "tollgate" : chatId);

    /// <summary>
    /// The stop reason and sequence of a finished choice: a <c>stop</c> whose matched stop string the server names
    /// (vLLM's <c>stop_reason</c>) and the caller asked for is <c>stop_sequence</c>, other stops <c>end_turn</c>.
    /// </summary>
    public static (string Reason, string? Sequence) Stop(JsonElement choice, ModelRequest request)
    {
        string? finish = TranslationJson.String(choice, "finish_reason");
        if (finish == "stop" && TranslationJson.String(choice, "stop_reason") is { } matched && IsStopSequence(request, matched))
        {
            return ("stop_sequence", matched);
        }

        return (TranslationJson.StopReason(finish), null);
    }

    private static bool IsStopSequence(ModelRequest request, string matched)
    {
        if (!request.Document.RootElement.TryGetProperty("stop_sequences", out var sequences) || sequences.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var sequence in sequences.EnumerateArray())
        {
            if (sequence.ValueKind == JsonValueKind.String && sequence.ValueEquals(matched))
            {
                return true;
            }
        }

        return false;
    }

    private static JsonElement FirstChoice(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                return choice;
            }
        }

        return default;
    }

    private static void WriteToolUse(Utf8JsonWriter writer, JsonElement call)
    {
        var function = call.ValueKind == JsonValueKind.Object && call.TryGetProperty("function", out var f) ? f : default;
        writer.WriteStartObject();
        writer.WriteString("type", "tool_use");
        writer.WriteString("id", TranslationJson.String(call, "id") ?? "");
        writer.WriteString("name", TranslationJson.String(function, "name") ?? "");
        writer.WritePropertyName("input");
        WriteInput(writer, TranslationJson.String(function, "arguments"));
        writer.WriteEndObject();
    }

    // The arguments' JSON object as the tool's input; anything else (not JSON, not an object) is an empty input.
    private static void WriteInput(Utf8JsonWriter writer, string? arguments)
    {
        if (!string.IsNullOrWhiteSpace(arguments))
        {
            try
            {
                using var input = JsonDocument.Parse(arguments);
                if (input.RootElement.ValueKind == JsonValueKind.Object)
                {
                    input.RootElement.WriteTo(writer);
                    return;
                }
            }
            catch (JsonException)
            {
                // Not JSON: an empty input below.
            }
        }

        writer.WriteStartObject();
        writer.WriteEndObject();
    }
}
