using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// One chat completions stream as Messages events: the first chunk opens the message (<c>message_start</c>), text
/// deltas go into a text block and each tool call into a <c>tool_use</c> block (its head opens it, its argument
/// pieces are <c>input_json_delta</c>s), each block opened with <c>content_block_start</c> and closed with
/// <c>content_block_stop</c> when the next one starts or the choice finishes; the finish reason and the bill close the
/// message in <c>message_delta</c> (<see cref="Finish"/>), before the relay's <c>message_stop</c>. The input usage is
/// not known before the upstream's last chunk: <c>message_start</c> reports zero, <c>message_delta</c> the whole bill.
/// </summary>
internal sealed class ChatToMessagesStream(ModelRequest request) : IStreamTranslator
{
    private enum Block
    {
        None,
        Text,
        Tool,
    }

    private bool _started;
    private int _nextBlock;
    private Block _open;
    private int _toolIndex = -1;
    private string? _toolId;
    private string? _stopReason;
    private string? _stopSequence;

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
            // Not a chunk (the relay bills what it can read of it): nothing to translate.
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            Start(output, TranslationJson.String(root, "id"));
            if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var choice in choices.EnumerateArray())
            {
                // A Messages caller asked for one answer: the first choice is it.
                if (choice.ValueKind == JsonValueKind.Object && (!choice.TryGetProperty("index", out var index) || index.ValueKind != JsonValueKind.Number || !index.TryGetInt32(out int number) || number == 0))
                {
                    Choice(choice, output);
                }
            }
        }
    }

    /// <inheritdoc />
    public void Finish(in TranslatedUsage usage, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Start(output, null);
        Close(output);
        var writer = Begin(output, "message_delta");
        writer.WriteStartObject();
        writer.WriteString("type", "message_delta");
        writer.WriteStartObject("delta");
        writer.WriteString("stop_reason", _stopReason ?? "end_turn");
        if (_stopSequence is null)
        {
            writer.WriteNull("stop_sequence");
        }
        else
        {
            writer.WriteString("stop_sequence", _stopSequence);
        }

        writer.WriteEndObject();
        writer.WriteStartObject("usage");
        TranslationJson.WriteAnthropicUsage(writer, usage);
        writer.WriteEndObject();
        writer.WriteEndObject();
        End(output, writer);
    }

    private void Choice(JsonElement choice, IBufferWriter<byte> output)
    {
        if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
        {
            string? text = TranslationJson.String(delta, "content");
            if (string.IsNullOrEmpty(text))
            {
                text = TranslationJson.String(delta, "refusal");
            }

            if (!string.IsNullOrEmpty(text))
            {
                Text(text, output);
            }

            if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    ToolCall(call, output);
                }
            }
        }

        if (TranslationJson.String(choice, "finish_reason") is not null)
        {
            (_stopReason, _stopSequence) = ChatToMessagesAnswer.Stop(choice, request);
            Close(output);
        }
    }

    private void Text(string text, IBufferWriter<byte> output)
    {
        if (_open != Block.Text)
        {
            Close(output);
            var start = Begin(output, "content_block_start");
            start.WriteStartObject();
            start.WriteString("type", "content_block_start");
            start.WriteNumber("index", _nextBlock);
            start.WriteStartObject("content_block");
            start.WriteString("type", "text");
            start.WriteString("text", "");
            start.WriteEndObject();
            start.WriteEndObject();
            End(output, start);
            _open = Block.Text;
        }

        var writer = Begin(output, "content_block_delta");
        writer.WriteStartObject();
        writer.WriteString("type", "content_block_delta");
        writer.WriteNumber("index", _nextBlock);
        writer.WriteStartObject("delta");
        writer.WriteString("type", "text_delta");
        writer.WriteString("text", text);
        writer.WriteEndObject();
        writer.WriteEndObject();
        End(output, writer);
    }

    // A call's head (its id and name) opens its block; later pieces of the same call add to its input. Servers stream
    // calls one after another, as OpenAI does (or each whole, as Ollama does).
    private void ToolCall(JsonElement call, IBufferWriter<byte> output)
    {
        int index = call.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out int n) ? n : _toolIndex;
        var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
        // A new index, or (from servers that send whole calls without an index) a new id, is the next call.
        string? id = TranslationJson.String(call, "id");
        if (_open != Block.Tool || index != _toolIndex || (id is not null && _toolId is not null && id != _toolId))
        {
            Close(output);
            var start = Begin(output, "content_block_start");
            start.WriteStartObject();
            start.WriteString("type", "content_block_start");
            start.WriteNumber("index", _nextBlock);
            start.WriteStartObject("content_block");
            start.WriteString("type", "tool_use");
            start.WriteString("id", id ?? $"toolu_tollgate_{_nextBlock}");
            start.WriteString("name", TranslationJson.String(function, "name") ?? "");
            start.WriteStartObject("input");
            start.WriteEndObject();
            start.WriteEndObject();
            start.WriteEndObject();
            End(output, start);
            _open = Block.Tool;
            _toolIndex = index;
            _toolId = id;
        }

        if (TranslationJson.String(function, "arguments") is { Length: > 0 } arguments)
        {
            var writer = Begin(output, "content_block_delta");
            writer.WriteStartObject();
            writer.WriteString("type", "content_block_delta");
            writer.WriteNumber("index", _nextBlock);
            writer.WriteStartObject("delta");
            writer.WriteString("type", "input_json_delta");
            writer.WriteString("partial_json", arguments);
            writer.WriteEndObject();
            writer.WriteEndObject();
            End(output, writer);
        }
    }

    // message_start, once, before anything else.
    private void Start(IBufferWriter<byte> output, string? id)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        var writer = Begin(output, "message_start");
        writer.WriteStartObject();
        writer.WriteString("type", "message_start");
        writer.WriteStartObject("message");
        writer.WriteString("id", ChatToMessagesAnswer.MessageId(id));
        writer.WriteString("type", "message");
        writer.WriteString("role", "assistant");
        writer.WriteString("model", request.Model);
        writer.WriteStartArray("content");
        writer.WriteEndArray();
        writer.WriteNull("stop_reason");
        writer.WriteNull("stop_sequence");
        writer.WriteStartObject("usage");
        writer.WriteNumber("input_tokens", 0);
        writer.WriteNumber("output_tokens", 0);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
        End(output, writer);
    }

    // content_block_stop for the open block, if any.
    private void Close(IBufferWriter<byte> output)
    {
        if (_open == Block.None)
        {
            return;
        }

        var writer = Begin(output, "content_block_stop");
        writer.WriteStartObject();
        writer.WriteString("type", "content_block_stop");
        writer.WriteNumber("index", _nextBlock);
        writer.WriteEndObject();
        End(output, writer);
        _open = Block.None;
        _nextBlock++;
    }

    private static Utf8JsonWriter Begin(IBufferWriter<byte> output, string name)
    {
        TranslationJson.BeginEvent(output, name);
        return new Utf8JsonWriter(output, TranslationJson.WriterOptions);
    }

    // Flushes the event's JSON and ends the event.
    private static void End(IBufferWriter<byte> output, Utf8JsonWriter writer)
    {
        writer.Dispose();
        TranslationJson.EndEvent(output);
    }
}
