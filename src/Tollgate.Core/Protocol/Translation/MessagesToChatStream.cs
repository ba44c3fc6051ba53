using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// One Messages stream as chat chunks: <c>message_start</c> is the role chunk, text deltas are content chunks, a
/// <c>tool_use</c> block's start is a tool call's head (id, name) and its <c>input_json_delta</c>s the call's argument
/// pieces, <c>message_delta</c> is the finish chunk; thinking, pings and block stops have no chunk. The usage chunk
/// (<c>"choices": []</c>, the bill and its cost) is written by <see cref="Finish"/> when the caller asked for it
/// (<c>stream_options.include_usage</c>), before the relay's <c>[DONE]</c>. The input of a structured output's tool call
/// (<see cref="ChatStructuredOutput"/>) streams as content chunks, and its finish is <c>stop</c>.
/// </summary>
internal sealed class MessagesToChatStream(ModelRequest request, long created) : IStreamTranslator
{
    private string _id = MessagesToChatAnswer.CompletionId(null);
    private bool _finished;
    private int _tools;
    private readonly Dictionary<int, int> _toolOfBlock = [];
    private readonly string? _structured = ChatStructuredOutput.ToolName(request.Document.RootElement);
    private int _structuredBlock = -1;

    /// <inheritdoc />
    public void Translate(ReadOnlySpan<byte> data, in ResponseScan scan, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data.ToArray(), TranslationJson.ReaderOptions);
        }
        catch (JsonException)
        {
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            switch (TranslationJson.String(root, "type"))
            {
                case "message_start":
                    if (root.TryGetProperty("message", out var message) && TranslationJson.String(message, "id") is { } id)
                    {
                        _id = MessagesToChatAnswer.CompletionId(id);
                    }

                    WriteChunk(output, static (w, _) =>
                    {
                        w.WriteString("role", "assistant");
                        w.WriteString("content", "");
                    }, default);
                    break;
                case "content_block_start":
                    BlockStart(root, output);
                    break;
                case "content_block_delta":
                    BlockDelta(root, output);
                    break;
                case "message_delta":
                    Finished(TranslationJson.String(root.TryGetProperty("delta", out var delta) ? delta : default, "stop_reason"), output);
                    break;
                default:
                    break;
            }
        }
    }

    /// <inheritdoc />
    public void Finish(in TranslatedUsage usage, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Finished(null, output);
        if (!request.IncludeUsage)
        {
            return;
        }

        var writer = Begin(output);
        writer.WriteStartObject();
        WriteHead(writer);
        writer.WriteStartArray("choices");
        writer.WriteEndArray();
        TranslationJson.WriteOpenAIUsage(writer, usage);
        writer.WriteEndObject();
        End(output, writer);
    }

    private void BlockStart(JsonElement root, IBufferWriter<byte> output)
    {
        if (!root.TryGetProperty("content_block", out var block) || TranslationJson.String(block, "type") != "tool_use"
            || !root.TryGetProperty("index", out var index) || index.ValueKind != JsonValueKind.Number || !index.TryGetInt32(out int blockIndex))
        {
            return;
        }

        if (_structured is not null && TranslationJson.String(block, "name") == _structured)
        {
            // The structured output's call: its input is the content.
            _structuredBlock = blockIndex;
            return;
        }

        int tool = _tools++;
        _toolOfBlock[blockIndex] = tool;
        WriteToolCall(output, tool, TranslationJson.String(block, "id") ?? "", TranslationJson.String(block, "name") ?? "", "");
    }

    private void BlockDelta(JsonElement root, IBufferWriter<byte> output)
    {
        if (!root.TryGetProperty("delta", out var delta))
        {
            return;
        }

        switch (TranslationJson.String(delta, "type"))
        {
            case "text_delta" when TranslationJson.String(delta, "text") is { Length: > 0 } text:
                WriteChunk(output, static (w, text) => w.WriteString("content", text), text);
                break;
            case "input_json_delta" when _structuredBlock >= 0 && TranslationJson.String(delta, "partial_json") is { Length: > 0 } json
                && root.TryGetProperty("index", out var index) && index.ValueKind == JsonValueKind.Number && index.TryGetInt32(out int blockIndex)
                && blockIndex == _structuredBlock:
                WriteChunk(output, static (w, text) => w.WriteString("content", text), json);
                break;
            case "input_json_delta" when TranslationJson.String(delta, "partial_json") is { Length: > 0 } json
                && root.TryGetProperty("index", out var index) && index.ValueKind == JsonValueKind.Number && index.TryGetInt32(out int blockIndex)
                && _toolOfBlock.TryGetValue(blockIndex, out int tool):
                WriteToolCall(output, tool, null, null, json);
                break;
            default:
                break;
        }
    }

    // The finish chunk, once: at message_delta, or at the end of a stream that had none.
    private void Finished(string? stopReason, IBufferWriter<byte> output)
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        var writer = Begin(output);
        writer.WriteStartObject();
        WriteHead(writer);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("delta");
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        writer.WriteString("finish_reason", _structured is null ? TranslationJson.FinishReason(stopReason) : ChatStructuredOutput.FinishReason(stopReason));
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        End(output, writer);
    }

    private void WriteToolCall(IBufferWriter<byte> output, int tool, string? id, string? name, string arguments)
    {
        var writer = Begin(output);
        writer.WriteStartObject();
        WriteHead(writer);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("delta");
        writer.WriteStartArray("tool_calls");
        writer.WriteStartObject();
        writer.WriteNumber("index", tool);
        if (id is not null)
        {
            writer.WriteString("id", id);
            writer.WriteString("type", "function");
        }

        writer.WriteStartObject("function");
        if (name is not null)
        {
            writer.WriteString("name", name);
        }

        writer.WriteString("arguments", arguments);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        writer.WriteNull("finish_reason");
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        End(output, writer);
    }

    // A chunk of the one choice whose delta holds what write puts there.
    private void WriteChunk(IBufferWriter<byte> output, Action<Utf8JsonWriter, string?> write, string? value)
    {
        var writer = Begin(output);
        writer.WriteStartObject();
        WriteHead(writer);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("delta");
        write(writer, value);
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        writer.WriteNull("finish_reason");
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        End(output, writer);
    }

    private void WriteHead(Utf8JsonWriter writer)
    {
        writer.WriteString("id", _id);
        writer.WriteString("object", "chat.completion.chunk");
        writer.WriteNumber("created", created);
        writer.WriteString("model", request.Model);
    }

    private static Utf8JsonWriter Begin(IBufferWriter<byte> output)
    {
        TranslationJson.BeginEvent(output, null);
        return new Utf8JsonWriter(output, TranslationJson.WriterOptions);
    }

    // Flushes the event's JSON and ends the event.
    private static void End(IBufferWriter<byte> output, Utf8JsonWriter writer)
    {
        writer.Dispose();
        TranslationJson.EndEvent(output);
    }
}
