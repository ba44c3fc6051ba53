using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>Writing the assembled answer in the plain form.</summary>
public sealed partial class OpenAIStreamAssembler
{
    private void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        WriteRaw(json, "id", _id);
        json.WriteString("object", _chat ? "chat.completion" : "text_completion");
        WriteRaw(json, "created", _created);
        WriteRaw(json, "model", _model);
        json.WriteStartArray("choices");
        foreach (var (index, choice) in _choices)
        {
            json.WriteStartObject();
            json.WriteNumber("index", index);
            if (_chat)
            {
                WriteMessage(json, choice);
                WriteLogProbs(json, choice);
            }
            else
            {
                WriteText(json, "text", choice.Text("text"));
                json.WriteNull("logprobs");
            }

            WriteRaw(json, "finish_reason", choice.FinishReason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        WriteRaw(json, "usage", _usage);
        if (_fingerprint is not null)
        {
            WriteRaw(json, "system_fingerprint", _fingerprint);
        }

        if (_serviceTier is not null)
        {
            WriteRaw(json, "service_tier", _serviceTier);
        }

        json.WriteEndObject();
    }

    private static void WriteMessage(Utf8JsonWriter json, Choice choice)
    {
        json.WriteStartObject("message");
        if (choice.Role is null)
        {
            json.WriteString("role", "assistant");
        }
        else
        {
            WriteRaw(json, "role", choice.Role);
        }

        if (!choice.HasText("content"))
        {
            json.WriteNull("content");
        }

        foreach (var (name, text) in choice.Texts)
        {
            if (text is null)
            {
                json.WriteNull(name);
            }
            else
            {
                WriteText(json, name, text);
            }
        }

        if (choice.ToolCalls.Count > 0)
        {
            json.WriteStartArray("tool_calls");
            foreach (var tool in choice.ToolCalls.Values)
            {
                json.WriteStartObject();
                WriteRaw(json, "id", tool.Id);
                WriteRaw(json, "type", tool.Type ?? "\"function\""u8.ToArray());
                json.WriteStartObject("function");
                WriteText(json, "name", tool.Name);
                WriteText(json, "arguments", tool.Arguments);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static void WriteLogProbs(Utf8JsonWriter json, Choice choice)
    {
        if (choice.LogProbParts.Count == 0)
        {
            json.WriteNull("logprobs");
            return;
        }

        json.WriteStartObject("logprobs");
        foreach (var (name, tokens) in choice.LogProbParts)
        {
            json.WriteStartArray(name);
            foreach (byte[] token in tokens)
            {
                json.WriteRawValue(token, skipInputValidation: true);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static void WriteText(Utf8JsonWriter json, string name, ArrayBufferWriter<byte> content)
    {
        byte[] quoted = new byte[content.WrittenCount + 2];
        quoted[0] = (byte)'"';
        content.WrittenSpan.CopyTo(quoted.AsSpan(1));
        quoted[^1] = (byte)'"';
        json.WritePropertyName(name);
        json.WriteRawValue(quoted, skipInputValidation: true);
    }

    private static void WriteRaw(Utf8JsonWriter json, string name, byte[]? raw)
    {
        json.WritePropertyName(name);
        if (raw is null)
        {
            json.WriteNullValue();
        }
        else
        {
            json.WriteRawValue(raw, skipInputValidation: true);
        }
    }
}
