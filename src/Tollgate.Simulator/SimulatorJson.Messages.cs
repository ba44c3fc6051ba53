using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>Anthropic Messages bodies, stream events and errors.</summary>
internal static partial class SimulatorJson
{
    /// <summary><c>{"type":"error","error":{"type","message"}}</c> with Anthropic's error type for the status.</summary>
    public static void WriteAnthropicError(Utf8JsonWriter json, SimulatorError error)
    {
        json.WriteStartObject();
        json.WriteString("type", "error");
        json.WriteStartObject("error");
        json.WriteString("type", error.StatusCode switch
        {
            401 => "authentication_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            >= 500 => "api_error",
            _ => "invalid_request_error",
        });
        json.WriteString("message", error.Message);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The answer of <c>count_tokens</c>: <c>{"input_tokens": N}</c>.</summary>
    public static void WriteTokenCount(Utf8JsonWriter json, long inputTokens)
    {
        json.WriteStartObject();
        json.WriteNumber("input_tokens", inputTokens);
        json.WriteEndObject();
    }

    /// <summary>A whole non-streamed message: a text block and the tool calls (<c>tool_use</c> blocks), the stop reason, and the usage.</summary>
    public static void WriteMessage(Utf8JsonWriter json, SimulatorCall call, bool includeUsage)
    {
        WriteMessageHeader(json, call);
        json.WriteStartArray("content");
        var toolCalls = call.Plan.CallsOf(0);
        if (call.Plan.Choices[0].Length > 0 || toolCalls.Count == 0)
        {
            json.WriteStartObject();
            json.WriteString("type", "text");
            json.WriteString("text", string.Concat(call.Plan.Choices[0]));
            json.WriteEndObject();
        }

        foreach (var toolCall in toolCalls)
        {
            json.WriteStartObject();
            json.WriteString("type", "tool_use");
            json.WriteString("id", ToolUseId(toolCall));
            json.WriteString("name", toolCall.Name);
            json.WritePropertyName("input");
            // Arguments cut short by max_tokens are not an object: the input is then empty, as it would be unusable.
            WriteInput(json, call.Plan.FinishReason == "length" ? "{}" : toolCall.Arguments);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("stop_reason", StopReason(call.Plan));
        json.WriteNull("stop_sequence");
        if (includeUsage)
        {
            WriteMessageUsage(json, call.Plan, call.Plan.CompletionTokens, input: true);
        }

        json.WriteEndObject();
    }

    /// <summary><c>message_start</c>: the message without content, and the input half of the usage.</summary>
    public static void WriteMessageStart(Utf8JsonWriter json, SimulatorCall call, bool includeUsage)
    {
        json.WriteStartObject();
        json.WriteString("type", "message_start");
        WriteMessageHeader(json, call, "message");
        json.WriteStartArray("content");
        json.WriteEndArray();
        json.WriteNull("stop_reason");
        json.WriteNull("stop_sequence");
        if (includeUsage)
        {
            WriteMessageUsage(json, call.Plan, 1, input: true);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary><c>content_block_start</c> of a <c>tool_use</c> block, its input still empty.</summary>
    public static void WriteToolUseBlockStart(Utf8JsonWriter json, int index, SimulatorToolCall toolCall)
    {
        json.WriteStartObject();
        json.WriteString("type", "content_block_start");
        json.WriteNumber("index", index);
        json.WriteStartObject("content_block");
        json.WriteString("type", "tool_use");
        json.WriteString("id", ToolUseId(toolCall));
        json.WriteString("name", toolCall.Name);
        json.WriteStartObject("input");
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>A <c>content_block_delta</c> carrying a piece of a tool call's input JSON.</summary>
    public static void WriteInputJsonDelta(Utf8JsonWriter json, int index, string partialJson)
    {
        json.WriteStartObject();
        json.WriteString("type", "content_block_delta");
        json.WriteNumber("index", index);
        json.WriteStartObject("delta");
        json.WriteString("type", "input_json_delta");
        json.WriteString("partial_json", partialJson);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary><c>content_block_start</c> of the text block.</summary>
    public static void WriteContentBlockStart(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type", "content_block_start");
        json.WriteNumber("index", 0);
        json.WriteStartObject("content_block");
        json.WriteString("type", "text");
        json.WriteString("text", string.Empty);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>A <c>content_block_delta</c> carrying one word.</summary>
    public static void WriteTextDelta(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type", "content_block_delta");
        json.WriteNumber("index", 0);
        json.WriteStartObject("delta");
        json.WriteString("type", "text_delta");
        json.WriteString("text", text);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>An event with only a <c>type</c> (<c>ping</c>, <c>message_stop</c>) or a block index (<c>content_block_stop</c>).</summary>
    public static void WriteTypeOnly(Utf8JsonWriter json, string type, int? index = null)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        if (index is { } i)
        {
            json.WriteNumber("index", i);
        }

        json.WriteEndObject();
    }

    /// <summary><c>message_delta</c>: the stop reason and the cumulative output (with the input, as current servers send it).</summary>
    public static void WriteMessageDelta(Utf8JsonWriter json, SimulatorCall call, bool includeUsage)
    {
        json.WriteStartObject();
        json.WriteString("type", "message_delta");
        json.WriteStartObject("delta");
        json.WriteString("stop_reason", StopReason(call.Plan));
        json.WriteNull("stop_sequence");
        json.WriteEndObject();
        if (includeUsage)
        {
            WriteMessageUsage(json, call.Plan, call.Plan.CompletionTokens, input: false);
        }

        json.WriteEndObject();
    }

    private static string StopReason(SimulatorPlan plan) => plan.FinishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        _ => "end_turn",
    };

    // Anthropic's tool call ids start with toolu_.
    private static string ToolUseId(SimulatorToolCall toolCall) => "toolu_" + toolCall.Id["call_".Length..];

    private static void WriteInput(Utf8JsonWriter json, string arguments)
    {
        using var document = JsonDocument.Parse(arguments);
        document.RootElement.WriteTo(json);
    }

    private static void WriteMessageHeader(Utf8JsonWriter json, SimulatorCall call, string? wrapper = null)
    {
        if (wrapper is null)
        {
            json.WriteStartObject();
        }
        else
        {
            json.WriteStartObject(wrapper);
        }

        json.WriteString("id", call.CompletionId);
        json.WriteString("type", "message");
        json.WriteString("role", "assistant");
        json.WriteString("model", call.Request.Model);
    }

    // Anthropic's usage: input_tokens excludes cache reads and writes, which have fields of their own.
    private static void WriteMessageUsage(Utf8JsonWriter json, SimulatorPlan plan, long outputTokens, bool input)
    {
        long writes = plan.CacheWrite5mTokens + plan.CacheWrite1hTokens;
        json.WriteStartObject("usage");
        if (input)
        {
            json.WriteNumber("input_tokens", plan.PromptTokens - plan.CachedTokens - writes);
            json.WriteNumber("cache_creation_input_tokens", writes);
            json.WriteNumber("cache_read_input_tokens", plan.CachedTokens);
            json.WriteStartObject("cache_creation");
            json.WriteNumber("ephemeral_5m_input_tokens", plan.CacheWrite5mTokens);
            json.WriteNumber("ephemeral_1h_input_tokens", plan.CacheWrite1hTokens);
            json.WriteEndObject();
        }

        json.WriteNumber("output_tokens", outputTokens);
        json.WriteEndObject();
    }
}
