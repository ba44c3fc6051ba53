using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Protocols.OpenAI;

/// <summary>
/// Replays a stored OpenAI answer (<c>chat.completion</c> or <c>text_completion</c>) as the stream a streaming caller
/// expects: per choice, one chunk with the whole message as its delta (tool calls with their index) and one with its
/// finish reason; then, only when the caller asked for <c>stream_options.include_usage</c>, the usage chunk (no
/// choices) with the stored token counts and the hit's <c>cost_nanousd</c> — with <c>"usage": null</c> on the chunks
/// before it, as OpenAI sends them. The end of the stream (<c>data: [DONE]</c>) is the caller's to add.
/// </summary>
internal static class OpenAICachedStream
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static ReadOnlyMemory<byte> Write(ModelRequest request, ReadOnlySpan<byte> answer, long costNanos)
    {
        var reader = new Utf8JsonReader(answer, new JsonReaderOptions { MaxDepth = 128 });
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        bool chat = request.Endpoint == ApiEndpoint.ChatCompletions;
        var output = new ArrayBufferWriter<byte>(answer.Length * 2 + 512);
        using var json = new Utf8JsonWriter(output, s_options);
        if (root.TryGetProperty("choices"u8, out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                output.Write("data: "u8);
                ContentChunk(json, root, choice, chat, request.IncludeUsage);
                End(json, output);
                output.Write("data: "u8);
                FinishChunk(json, root, choice, chat, request.IncludeUsage);
                End(json, output);
            }
        }

        if (request.IncludeUsage && root.TryGetProperty("usage"u8, out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            output.Write("data: "u8);
            UsageChunk(json, root, usage, chat, costNanos);
            End(json, output);
        }

        return output.WrittenMemory;
    }

    private static void End(Utf8JsonWriter json, ArrayBufferWriter<byte> output)
    {
        json.Flush();
        output.Write("\n\n"u8);
        json.Reset();
    }

    private static void ContentChunk(Utf8JsonWriter json, JsonElement root, JsonElement choice, bool chat, bool includeUsage)
    {
        Header(json, root, chat);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        CopyIndex(json, choice);
        if (chat)
        {
            WriteDelta(json, choice);
        }
        else
        {
            Copy(json, choice, "text");
        }

        Copy(json, choice, "logprobs");
        json.WriteNull("finish_reason");
        json.WriteEndObject();
        json.WriteEndArray();
        Trailer(json, includeUsage);
    }

    private static void FinishChunk(Utf8JsonWriter json, JsonElement root, JsonElement choice, bool chat, bool includeUsage)
    {
        Header(json, root, chat);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        CopyIndex(json, choice);
        if (chat)
        {
            json.WriteStartObject("delta");
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", "");
        }

        json.WriteNull("logprobs");
        Copy(json, choice, "finish_reason");
        json.WriteEndObject();
        json.WriteEndArray();
        Trailer(json, includeUsage);
    }

    private static void UsageChunk(Utf8JsonWriter json, JsonElement root, JsonElement usage, bool chat, long costNanos)
    {
        Header(json, root, chat);
        json.WriteStartArray("choices");
        json.WriteEndArray();
        json.WriteStartObject("usage");
        foreach (var member in usage.EnumerateObject())
        {
            if (!member.NameEquals(CostInjector.Field))
            {
                WriteRaw(json, member);
            }
        }

        json.WriteNumber(CostInjector.Field, costNanos);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    // The answer's own id, time, model, fingerprint and tier on every chunk, as the original stream had them.
    private static void Header(Utf8JsonWriter json, JsonElement root, bool chat)
    {
        json.WriteStartObject();
        Copy(json, root, "id");
        json.WriteString("object", chat ? "chat.completion.chunk" : "text_completion");
        Copy(json, root, "created");
        Copy(json, root, "model");
        Copy(json, root, "system_fingerprint");
        Copy(json, root, "service_tier");
    }

    private static void Trailer(Utf8JsonWriter json, bool includeUsage)
    {
        if (includeUsage)
        {
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    }

    private static void WriteDelta(Utf8JsonWriter json, JsonElement choice)
    {
        json.WriteStartObject("delta");
        if (choice.TryGetProperty("message"u8, out var message) && message.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in message.EnumerateObject())
            {
                if (field.NameEquals("tool_calls"u8) && field.Value.ValueKind == JsonValueKind.Array)
                {
                    WriteToolCalls(json, field.Value);
                }
                else
                {
                    WriteRaw(json, field);
                }
            }
        }

        json.WriteEndObject();
    }

    // A streamed tool call carries its position in the list.
    private static void WriteToolCalls(Utf8JsonWriter json, JsonElement calls)
    {
        json.WriteStartArray("tool_calls");
        int index = 0;
        foreach (var call in calls.EnumerateArray())
        {
            json.WriteStartObject();
            json.WriteNumber("index", index++);
            if (call.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in call.EnumerateObject())
                {
                    if (!field.NameEquals("index"u8))
                    {
                        WriteRaw(json, field);
                    }
                }
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void CopyIndex(Utf8JsonWriter json, JsonElement choice)
    {
        if (choice.TryGetProperty("index"u8, out var index))
        {
            json.WritePropertyName("index");
            json.WriteRawValue(JsonMarshal.GetRawUtf8Value(index), skipInputValidation: true);
        }
        else
        {
            json.WriteNumber("index", 0);
        }
    }

    private static void Copy(Utf8JsonWriter json, JsonElement from, string name)
    {
        if (from.TryGetProperty(name, out var value))
        {
            json.WritePropertyName(name);
            json.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);
        }
    }

    // Values go out as stored, byte for byte (text the upstream sent unescaped stays unescaped).
    private static void WriteRaw(Utf8JsonWriter json, JsonProperty property)
    {
        json.WritePropertyName(property.Name);
        json.WriteRawValue(JsonMarshal.GetRawUtf8Value(property.Value), skipInputValidation: true);
    }
}
