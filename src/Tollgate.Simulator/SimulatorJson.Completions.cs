using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>Chat and legacy completion bodies and their stream chunks.</summary>
internal static partial class SimulatorJson
{
    private const string Fingerprint = "fp_tollgate_sim";

    /// <summary>A whole non-streamed <c>chat.completion</c> or <c>text_completion</c>.</summary>
    public static void WriteCompletion(Utf8JsonWriter json, SimulatorCall call, bool includeUsage)
    {
        WriteHeader(json, call, call.IsChat ? "chat.completion" : "text_completion");
        json.WriteStartArray("choices");
        for (int i = 0; i < call.Plan.Choices.Count; i++)
        {
            string text = string.Concat(call.Plan.Choices[i]);
            json.WriteStartObject();
            json.WriteNumber("index", i);
            if (call.IsChat)
            {
                var toolCalls = call.Plan.CallsOf(i);
                json.WriteStartObject("message");
                json.WriteString("role", "assistant");
                if (toolCalls.Count > 0 && text.Length == 0)
                {
                    json.WriteNull("content");
                }
                else
                {
                    json.WriteString("content", text);
                }

                json.WriteNull("refusal");
                if (toolCalls.Count > 0)
                {
                    json.WriteStartArray("tool_calls");
                    foreach (var toolCall in toolCalls)
                    {
                        json.WriteStartObject();
                        json.WriteString("id", toolCall.Id);
                        json.WriteString("type", "function");
                        json.WriteStartObject("function");
                        json.WriteString("name", toolCall.Name);
                        json.WriteString("arguments", toolCall.Arguments);
                        json.WriteEndObject();
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }
            else
            {
                json.WriteString("text", text);
            }

            json.WriteNull("logprobs");
            json.WriteString("finish_reason", call.Plan.FinishReason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (includeUsage)
        {
            WriteUsage(json, call.Plan);
        }

        json.WriteEndObject();
    }

    /// <summary>
    /// One stream chunk for <paramref name="choice"/>: the chat role chunk (<paramref name="role"/>), a content
    /// chunk (<paramref name="content"/>) or the closing chunk (<paramref name="finishReason"/>).
    /// </summary>
    public static void WriteChunk(Utf8JsonWriter json, SimulatorCall call, int choice, string? role, string? content, string? finishReason)
    {
        WriteHeader(json, call, call.IsChat ? "chat.completion.chunk" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", choice);
        if (call.IsChat)
        {
            json.WriteStartObject("delta");
            if (role is not null)
            {
                json.WriteString("role", role);
            }

            if (content is not null)
            {
                json.WriteString("content", content);
            }

            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", content ?? string.Empty);
        }

        json.WriteNull("logprobs");
        if (finishReason is null)
        {
            json.WriteNull("finish_reason");
        }
        else
        {
            json.WriteString("finish_reason", finishReason);
        }

        json.WriteEndObject();
        json.WriteEndArray();
        if (call.Request.IncludeUsage)
        {
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    }

    /// <summary>
    /// A chat stream chunk of a tool call: its head (<paramref name="head"/>: id, type and name, empty arguments) or a
    /// piece of its arguments.
    /// </summary>
    public static void WriteToolCallChunk(Utf8JsonWriter json, SimulatorCall call, int choice, int index, SimulatorToolCall toolCall, bool head, string arguments)
    {
        WriteHeader(json, call, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", choice);
        json.WriteStartObject("delta");
        json.WriteStartArray("tool_calls");
        json.WriteStartObject();
        json.WriteNumber("index", index);
        if (head)
        {
            json.WriteString("id", toolCall.Id);
            json.WriteString("type", "function");
        }

        json.WriteStartObject("function");
        if (head)
        {
            json.WriteString("name", toolCall.Name);
        }

        json.WriteString("arguments", arguments);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteNull("finish_reason");
        json.WriteEndObject();
        json.WriteEndArray();
        if (call.Request.IncludeUsage)
        {
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    }

    /// <summary>The last chunk of a stream asked for with <c>include_usage</c>: no choices, the usage.</summary>
    public static void WriteUsageChunk(Utf8JsonWriter json, SimulatorCall call)
    {
        WriteHeader(json, call, call.IsChat ? "chat.completion.chunk" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteEndArray();
        WriteUsage(json, call.Plan);
        json.WriteEndObject();
    }

    private static void WriteHeader(Utf8JsonWriter json, SimulatorCall call, string objectName)
    {
        json.WriteStartObject();
        json.WriteString("id", call.CompletionId);
        json.WriteString("object", objectName);
        json.WriteNumber("created", call.Created);
        json.WriteString("model", call.Request.Model);
        if (call.IsChat)
        {
            json.WriteString("system_fingerprint", Fingerprint);
        }
    }
}
