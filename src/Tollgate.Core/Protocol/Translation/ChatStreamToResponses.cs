using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// Turns one chat completions stream into the Responses API's events, each named (<c>event:</c>) and numbered
/// (<c>sequence_number</c>), as OpenAI streams them: <c>response.created</c> and <c>response.in_progress</c> with the
/// first chunk; for text, <c>response.output_item.added</c>, <c>response.content_part.added</c>, a
/// <c>response.output_text.delta</c> per chunk (a refusal: <c>response.refusal.delta</c>), then
/// <c>response.output_text.done</c>, <c>response.content_part.done</c> and <c>response.output_item.done</c>; for each
/// tool call, <c>response.output_item.added</c>, a <c>response.function_call_arguments.delta</c> per chunk,
/// <c>.done</c> and <c>response.output_item.done</c>; items close when the choice finishes, and the stream ends with
/// <c>response.completed</c> (or <c>response.incomplete</c> on <c>length</c>) carrying the whole response and the bill.
/// </summary>
internal sealed class ChatStreamToResponses(ModelRequest request) : IStreamTranslator
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly List<ResponsesOutputItem> _output = [];
    // Chat's tool call index → the item it streams into.
    private readonly Dictionary<int, ResponsesOutputItem> _calls = [];
    private readonly List<ResponsesOutputItem> _open = [];
    private Dictionary<string, string>? _namespaces;
    private ResponsesOutputItem? _message;
    private ResponsesObject.Header _header;
    private bool _started;
    private string? _finishReason;
    private int _sequence;

    /// <inheritdoc />
    public void Translate(ReadOnlySpan<byte> data, in ResponseScan scan, IBufferWriter<byte> output)
    {
        using var document = ChatAnswerToResponse.Parse(data);
        if (document is null || document.RootElement.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var chunk = document.RootElement;
        Start(chunk, output);
        if (!chunk.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var choice in choices.EnumerateArray())
        {
            // A Responses request asks for one choice.
            if (choice.ValueKind != JsonValueKind.Object || (choice.TryGetProperty("index", out var index) && index.ValueKind == JsonValueKind.Number && index.GetInt32() != 0))
            {
                continue;
            }

            if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
            {
                if (delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String && content.GetString() is { Length: > 0 } text)
                {
                    Text("output_text", text, choice, output);
                }

                if (delta.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String && refusal.GetString() is { Length: > 0 } refused)
                {
                    Text("refusal", refused, choice, output);
                }

                if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    int position = 0;
                    foreach (var call in calls.EnumerateArray())
                    {
                        ToolCall(call, position++, output);
                    }
                }
            }

            if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
            {
                _finishReason = finish.GetString();
                CloseAll(output);
            }
        }
    }

    /// <inheritdoc />
    public void Finish(in TranslatedUsage usage, IBufferWriter<byte> output)
    {
        if (!_started)
        {
            Start(default, output);
        }

        CloseAll(output);
        var (status, reason) = ResponsesObject.StatusOf(_finishReason);
        var bill = usage;
        Event(output, "response." + status, json =>
        {
            json.WritePropertyName("response");
            ResponsesObject.Write(json, _header, status, reason, _output, bill);
        });
    }

    // response.created and response.in_progress, once, from what the first chunk says of the answer.
    private void Start(JsonElement chunk, IBufferWriter<byte> output)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        long created = chunk.ValueKind == JsonValueKind.Object && chunk.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.Number
            && c.TryGetInt64(out long at) ? at : 0;
        string model = chunk.ValueKind == JsonValueKind.Object && chunk.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String
            ? m.GetString()!
            : request.Model;
        _header = new ResponsesObject.Header(ResponsesOutputItem.NewId("resp"), created, model, request.Document.RootElement);
        foreach (string type in (ReadOnlySpan<string>)["response.created", "response.in_progress"])
        {
            Event(output, type, json =>
            {
                json.WritePropertyName("response");
                ResponsesObject.Write(json, _header, "in_progress", null, [], null);
            });
        }
    }

    private void Text(string kind, string text, JsonElement choice, IBufferWriter<byte> output)
    {
        if (_message is null)
        {
            _message = ResponsesOutputItem.Message();
            Add(_message, output);
        }

        var message = _message;
        int outputIndex = _output.IndexOf(message);
        int contentIndex = message.PartOf(kind, out bool added);
        var part = message.Parts[contentIndex];
        if (added)
        {
            Event(output, "response.content_part.added", json =>
            {
                ItemRef(json, message, outputIndex);
                json.WriteNumber("content_index", contentIndex);
                json.WritePropertyName("part");
                part.Write(json, whole: false);
            });
        }

        int before = part.Logprobs.Count;
        if (kind == "output_text")
        {
            ChatAnswerToResponse.AddLogprobs(choice, part);
        }

        part.Text.Append(text);
        Event(output, kind == "refusal" ? "response.refusal.delta" : "response.output_text.delta", json =>
        {
            ItemRef(json, message, outputIndex);
            json.WriteNumber("content_index", contentIndex);
            json.WriteString("delta", text);
            if (kind == "output_text")
            {
                ResponsesOutputItem.Part.WriteLogprobs(json, part.Logprobs.Skip(before));
            }
        });
    }

    private void ToolCall(JsonElement call, int position, IBufferWriter<byte> output)
    {
        if (call.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        int index = call.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out int n) ? n : position;
        var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
        if (!_calls.TryGetValue(index, out var item))
        {
            // A new call: the text before it is complete.
            if (_message is not null)
            {
                Close(_message, output);
            }

            string name = function.ValueKind == JsonValueKind.Object && function.TryGetProperty("name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String
                ? nameElement.GetString()!
                : "";
            string? id = call.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
            _namespaces ??= ResponsesFunctionTools.Namespaces(request.Document.RootElement);
            item = ResponsesOutputItem.FunctionCall(id, name, _namespaces.GetValueOrDefault(name));
            _calls[index] = item;
            Add(item, output);
        }

        if (function.ValueKind == JsonValueKind.Object && function.TryGetProperty("arguments", out var arguments) && arguments.ValueKind == JsonValueKind.String
            && arguments.GetString() is { Length: > 0 } piece)
        {
            item.Arguments.Append(piece);
            int outputIndex = _output.IndexOf(item);
            Event(output, "response.function_call_arguments.delta", json =>
            {
                ItemRef(json, item, outputIndex);
                json.WriteString("delta", piece);
            });
        }
    }

    private void Add(ResponsesOutputItem item, IBufferWriter<byte> output)
    {
        _output.Add(item);
        _open.Add(item);
        int outputIndex = _output.Count - 1;
        Event(output, "response.output_item.added", json =>
        {
            json.WriteNumber("output_index", outputIndex);
            json.WritePropertyName("item");
            item.Write(json);
        });
    }

    private void CloseAll(IBufferWriter<byte> output)
    {
        while (_open.Count > 0)
        {
            Close(_open[0], output);
        }
    }

    // The item's closing events, once: its parts' (or arguments') .done events, then response.output_item.done.
    private void Close(ResponsesOutputItem item, IBufferWriter<byte> output)
    {
        if (!_open.Remove(item))
        {
            return;
        }

        if (ReferenceEquals(item, _message))
        {
            _message = null;
        }

        int outputIndex = _output.IndexOf(item);
        item.Status = _finishReason == "length" ? "incomplete" : "completed";
        if (item.Type == "message")
        {
            for (int contentIndex = 0; contentIndex < item.Parts.Count; contentIndex++)
            {
                var part = item.Parts[contentIndex];
                int at = contentIndex;
                Event(output, part.Kind == "refusal" ? "response.refusal.done" : "response.output_text.done", json =>
                {
                    ItemRef(json, item, outputIndex);
                    json.WriteNumber("content_index", at);
                    if (part.Kind == "refusal")
                    {
                        json.WriteString("refusal", part.Text.ToString());
                    }
                    else
                    {
                        json.WriteString("text", part.Text.ToString());
                        ResponsesOutputItem.Part.WriteLogprobs(json, part.Logprobs);
                    }
                });
                Event(output, "response.content_part.done", json =>
                {
                    ItemRef(json, item, outputIndex);
                    json.WriteNumber("content_index", at);
                    json.WritePropertyName("part");
                    part.Write(json, whole: true);
                });
            }
        }
        else
        {
            Event(output, "response.function_call_arguments.done", json =>
            {
                ItemRef(json, item, outputIndex);
                json.WriteString("name", item.Name);
                json.WriteString("arguments", item.Arguments.ToString());
            });
        }

        Event(output, "response.output_item.done", json =>
        {
            json.WriteNumber("output_index", outputIndex);
            json.WritePropertyName("item");
            item.Write(json);
        });
    }

    private static void ItemRef(Utf8JsonWriter json, ResponsesOutputItem item, int outputIndex)
    {
        json.WriteString("item_id", item.Id);
        json.WriteNumber("output_index", outputIndex);
    }

    // One named, numbered event: event: TYPE, then data: {"type":TYPE,"sequence_number":N,…}.
    private void Event(IBufferWriter<byte> output, string type, Action<Utf8JsonWriter> body)
    {
        output.Write("event: "u8);
        output.Write(System.Text.Encoding.UTF8.GetBytes(type));
        output.Write("\ndata: "u8);
        using (var json = new Utf8JsonWriter(output, s_options))
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteNumber("sequence_number", _sequence++);
            body(json);
            json.WriteEndObject();
        }

        output.Write("\n\n"u8);
    }
}
