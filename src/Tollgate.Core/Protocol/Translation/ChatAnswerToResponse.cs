using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// A whole chat completion as the Responses object it answers: the first choice's text (and refusal, with its
/// log-probabilities) as a <c>message</c> item, each tool call as a <c>function_call</c> item, <c>length</c> as
/// <c>status: incomplete</c> with <c>incomplete_details.reason: max_output_tokens</c>, and the bill as the usage.
/// </summary>
internal static class ChatAnswerToResponse
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The Responses body for the chat answer <paramref name="body"/>.</summary>
    public static byte[] Translate(ReadOnlySpan<byte> body, ModelRequest request, in TranslatedUsage usage)
    {
        var root = request.Document.RootElement;
        var output = new List<ResponsesOutputItem>(2);
        string? finishReason = null;
        long created = 0;
        string model = request.Model;
        if (Parse(body) is { } document)
        {
            using (document)
            {
                var answer = document.RootElement;
                created = answer.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt64(out long at) ? at : 0;
                model = answer.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : model;
                if (answer.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
                {
                    finishReason = ReadChoice(choices[0], root, output);
                }
            }
        }

        var (status, reason) = ResponsesObject.StatusOf(finishReason);
        foreach (var item in output)
        {
            item.Status = status;
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, s_options))
        {
            ResponsesObject.Write(json, new ResponsesObject.Header(ResponsesOutputItem.NewId("resp"), created, model, root), status, reason, output, usage);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The document of <paramref name="json"/>, or null when it is not JSON (then nothing of it is translated).</summary>
    public static JsonDocument? Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            return JsonDocument.TryParseValue(ref reader, out var document) ? document : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // The choice's message as output items; returns its finish_reason.
    private static string? ReadChoice(JsonElement choice, JsonElement request, List<ResponsesOutputItem> output)
    {
        string? finishReason = choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String ? finish.GetString() : null;
        if (!choice.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
        {
            return finishReason;
        }

        var text = message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : null;
        var refusal = message.TryGetProperty("refusal", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        if (!string.IsNullOrEmpty(text) || !string.IsNullOrEmpty(refusal))
        {
            var item = ResponsesOutputItem.Message();
            if (!string.IsNullOrEmpty(text))
            {
                var part = item.Parts[item.PartOf("output_text", out _)];
                part.Text.Append(text);
                AddLogprobs(choice, part);
            }

            if (!string.IsNullOrEmpty(refusal))
            {
                item.Parts[item.PartOf("refusal", out _)].Text.Append(refusal);
            }

            output.Add(item);
        }

        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            var namespaces = ResponsesFunctionTools.Namespaces(request);
            foreach (var call in calls.EnumerateArray())
            {
                if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                string name = function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
                string? id = call.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
                var item = ResponsesOutputItem.FunctionCall(id, name, namespaces.GetValueOrDefault(name));
                if (function.TryGetProperty("arguments", out var arguments) && arguments.ValueKind == JsonValueKind.String)
                {
                    item.Arguments.Append(arguments.GetString());
                }

                output.Add(item);
            }
        }

        return finishReason;
    }

    /// <summary>Adds the log-probability entries of a choice (<c>logprobs.content</c>) to <paramref name="part"/>.</summary>
    public static void AddLogprobs(JsonElement choice, ResponsesOutputItem.Part part)
    {
        if (choice.TryGetProperty("logprobs", out var logprobs) && logprobs.ValueKind == JsonValueKind.Object
            && logprobs.TryGetProperty("content", out var entries) && entries.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in entries.EnumerateArray())
            {
                part.Logprobs.Add(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(entry).ToArray());
            }
        }
    }
}
