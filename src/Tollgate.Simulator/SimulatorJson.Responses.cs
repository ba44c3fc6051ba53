using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>The status of a simulated response: in progress while it streams, then completed, incomplete or failed.</summary>
internal static class SimulatorResponseStatus
{
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Incomplete = "incomplete";
    public const string Queued = "queued";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";

    /// <summary>Failed under <c>[[sim:failed]]</c>; else completed, or incomplete when <c>max_output_tokens</c> cut the reply short.</summary>
    public static string Final(SimulatorCall call) =>
        call.Directives.Failed ? Failed : call.Plan.FinishReason == "length" ? Incomplete : Completed;
}

/// <summary>Responses API bodies (<c>object: "response"</c>), their output items and their stream events.</summary>
internal static partial class SimulatorJson
{
    /// <summary>The id of the message output item of <paramref name="call"/>.</summary>
    public static string MessageId(SimulatorCall call) => "msg" + call.CompletionId["resp".Length..];

    /// <summary>The id of a function call output item.</summary>
    public static string FunctionCallItemId(SimulatorToolCall toolCall) => "fc" + toolCall.Id["call".Length..];

    /// <summary>
    /// A whole response object in <paramref name="status"/>: with its output and usage once it is final (the usage only
    /// when <paramref name="includeUsage"/>, else <c>null</c>), with no output and null usage while queued or in
    /// progress; cancelled (a background response), with no output and the usage of its prompt only.
    /// </summary>
    public static void WriteResponse(Utf8JsonWriter json, SimulatorCall call, string status, bool includeUsage)
    {
        bool final = status is SimulatorResponseStatus.Completed or SimulatorResponseStatus.Incomplete or SimulatorResponseStatus.Failed;
        json.WriteStartObject();
        json.WriteString("id", call.CompletionId);
        json.WriteString("object", "response");
        json.WriteNumber("created_at", call.Created);
        json.WriteString("status", status);
        json.WriteBoolean("background", call.Request.Background);
        if (status == SimulatorResponseStatus.Failed)
        {
            json.WriteStartObject("error");
            json.WriteString("code", "server_error");
            json.WriteString("message", "The model failed to complete the response (simulated).");
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("error");
        }

        if (status == SimulatorResponseStatus.Incomplete)
        {
            json.WriteStartObject("incomplete_details");
            json.WriteString("reason", "max_output_tokens");
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("incomplete_details");
        }

        json.WriteNull("instructions");
        if (call.Request.MaxTokens is int max)
        {
            json.WriteNumber("max_output_tokens", max);
        }
        else
        {
            json.WriteNull("max_output_tokens");
        }

        json.WriteString("model", call.Request.Model);
        json.WriteStartArray("output");
        if (final)
        {
            WriteOutputItems(json, call);
        }

        json.WriteEndArray();
        json.WriteBoolean("parallel_tool_calls", true);
        json.WriteNull("previous_response_id");
        json.WriteBoolean("store", true);
        json.WriteNumber("temperature", 1);
        json.WriteStartObject("text");
        json.WriteStartObject("format");
        json.WriteString("type", call.Request.Tools.JsonOutput ? "json_object" : "text");
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteString("tool_choice", "auto");
        json.WriteStartArray("tools");
        json.WriteEndArray();
        json.WriteNumber("top_p", 1);
        json.WriteString("truncation", "disabled");
        if (final && includeUsage)
        {
            WriteResponseUsage(json, call.Plan);
        }
        else if (status == SimulatorResponseStatus.Cancelled && includeUsage)
        {
            WriteCancelledUsage(json, call.Plan);
        }
        else
        {
            json.WriteNull("usage");
        }

        json.WriteStartObject("metadata");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The output items: each hosted tool call, the message (when the reply has text), then each function call.</summary>
    public static void WriteOutputItems(Utf8JsonWriter json, SimulatorCall call)
    {
        for (int i = 0; i < call.HostedCalls.Count; i++)
        {
            WriteHostedCallItem(json, call, i, SimulatorResponseStatus.Completed);
        }

        string[] text = call.Plan.Choices.Count > 0 ? call.Plan.Choices[0] : [];
        if (text.Length > 0)
        {
            WriteMessageItem(json, call, string.Concat(text), SimulatorResponseStatus.Completed);
        }

        foreach (var toolCall in call.Plan.CallsOf(0))
        {
            WriteFunctionCallItem(json, toolCall, toolCall.Arguments, SimulatorResponseStatus.Completed);
        }
    }

    /// <summary>The message output item; <paramref name="text"/> null writes it with no content yet.</summary>
    public static void WriteMessageItem(Utf8JsonWriter json, SimulatorCall call, string? text, string status)
    {
        json.WriteStartObject();
        json.WriteString("type", "message");
        json.WriteString("id", MessageId(call));
        json.WriteString("status", status);
        json.WriteString("role", "assistant");
        json.WriteStartArray("content");
        if (text is not null)
        {
            WriteTextPart(json, text);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>An <c>output_text</c> content part.</summary>
    public static void WriteTextPart(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type", "output_text");
        json.WriteString("text", text);
        json.WriteStartArray("annotations");
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The id of hosted tool call <paramref name="index"/> of <paramref name="call"/>.</summary>
    public static string HostedCallItemId(SimulatorCall call, int index) =>
        "htc" + call.CompletionId["resp".Length..] + "_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Hosted tool call <paramref name="index"/> of <paramref name="call"/> (e.g. a <c>web_search_call</c> with its search).</summary>
    public static void WriteHostedCallItem(Utf8JsonWriter json, SimulatorCall call, int index, string status)
    {
        string type = call.HostedCalls[index];
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteString("id", HostedCallItemId(call, index));
        json.WriteString("status", status);
        if (type == "web_search_call")
        {
            json.WriteStartObject("action");
            json.WriteString("type", "search");
            json.WriteString("query", "simulated search");
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary>A <c>function_call</c> output item.</summary>
    public static void WriteFunctionCallItem(Utf8JsonWriter json, SimulatorToolCall toolCall, string arguments, string status)
    {
        json.WriteStartObject();
        json.WriteString("type", "function_call");
        json.WriteString("id", FunctionCallItemId(toolCall));
        json.WriteString("call_id", toolCall.Id);
        json.WriteString("name", toolCall.Name);
        json.WriteString("arguments", arguments);
        json.WriteString("status", status);
        json.WriteEndObject();
    }

    /// <summary>The usage of a background response cancelled before it generated anything: its prompt.</summary>
    public static void WriteCancelledUsage(Utf8JsonWriter json, SimulatorPlan plan)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("input_tokens", plan.PromptTokens);
        json.WriteStartObject("input_tokens_details");
        json.WriteNumber("cached_tokens", plan.CachedTokens);
        json.WriteEndObject();
        json.WriteNumber("output_tokens", 0);
        json.WriteStartObject("output_tokens_details");
        json.WriteNumber("reasoning_tokens", 0);
        json.WriteEndObject();
        json.WriteNumber("total_tokens", plan.PromptTokens);
        json.WriteEndObject();
    }

    /// <summary>The Responses API's usage object.</summary>
    public static void WriteResponseUsage(Utf8JsonWriter json, SimulatorPlan plan)
    {
        long output = plan.CompletionTokens;
        json.WriteStartObject("usage");
        json.WriteNumber("input_tokens", plan.PromptTokens);
        json.WriteStartObject("input_tokens_details");
        json.WriteNumber("cached_tokens", plan.CachedTokens);
        json.WriteEndObject();
        json.WriteNumber("output_tokens", output);
        json.WriteStartObject("output_tokens_details");
        json.WriteNumber("reasoning_tokens", plan.ReasoningTokens);
        json.WriteEndObject();
        json.WriteNumber("total_tokens", plan.PromptTokens + output);
        json.WriteEndObject();
    }
}
