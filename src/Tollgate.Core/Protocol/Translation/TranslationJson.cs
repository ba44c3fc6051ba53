using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tollgate.Pricing;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// What both translations between Anthropic Messages and OpenAI chat completions share: the JSON writer's options, the
/// refusal of a field with no equivalent, the SSE framing, the stop reasons and the usage objects of each side.
/// </summary>
internal static class TranslationJson
{
    /// <summary>Text goes out as it came (no escaping of non-ASCII characters).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Reads what the upstream sent as deep as its usage scanners do.</summary>
    public static readonly JsonDocumentOptions ReaderOptions = new() { MaxDepth = 128 };

    /// <summary>The 400 refusing <paramref name="param"/>, which has no equivalent in the upstream's protocol.</summary>
    public static GatewayError Unsupported(string param, string why, string upstreamApi) => GatewayError.InvalidRequest(
        $"{param}: {why}; this model's upstream speaks only {upstreamApi}, to which Tollgate translates the request.",
        param, ErrorCodes.ParamNotSupported);

    /// <summary>Whether <paramref name="element"/> is absent in effect (JSON null).</summary>
    public static bool IsNull(JsonElement element) => element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    /// <summary>The string value of member <paramref name="name"/>, or null.</summary>
    public static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>Starts an SSE event: its <c>event:</c> line when <paramref name="name"/> is given, then <c>data: </c>.</summary>
    public static void BeginEvent(IBufferWriter<byte> output, string? name)
    {
        if (name is not null)
        {
            output.Write("event: "u8);
            output.Write(System.Text.Encoding.ASCII.GetBytes(name));
            output.Write("\n"u8);
        }

        output.Write("data: "u8);
    }

    /// <summary>Ends an SSE event.</summary>
    public static void EndEvent(IBufferWriter<byte> output) => output.Write("\n\n"u8);

    /// <summary>Anthropic's <c>stop_reason</c> for a chat <c>finish_reason</c>.</summary>
    public static string StopReason(string? finishReason) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    /// <summary>The chat <c>finish_reason</c> for an Anthropic <c>stop_reason</c>.</summary>
    public static string FinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };

    /// <summary>
    /// Anthropic's <c>usage</c> members for the bill: <c>input_tokens</c> is the input neither read from nor written to
    /// the cache, as Anthropic reports it; then the cache reads and writes, the output, the cost.
    /// </summary>
    public static void WriteAnthropicUsage(Utf8JsonWriter writer, in TranslatedUsage bill)
    {
        var usage = bill.Usage;
        long writes = Saturating.Add(usage.CacheWrite5mTokens, usage.CacheWrite1hTokens);
        writer.WriteNumber("input_tokens", Math.Max(0, usage.InputTokens - usage.CachedInputTokens - writes));
        writer.WriteNumber("cache_creation_input_tokens", writes);
        writer.WriteNumber("cache_read_input_tokens", usage.CachedInputTokens);
        writer.WriteNumber("output_tokens", usage.OutputTokens);
        writer.WriteNumber(CostInjector.Field, bill.CostNanos);
        if (bill.Estimated)
        {
            writer.WriteBoolean("estimated", true);
        }
    }

    /// <summary>
    /// OpenAI's <c>usage</c> object for the bill: <c>prompt_tokens</c> is all input (cache reads and writes included),
    /// with the reads as <c>prompt_tokens_details.cached_tokens</c>; then the output and the cost.
    /// </summary>
    public static void WriteOpenAIUsage(Utf8JsonWriter writer, in TranslatedUsage bill)
    {
        var usage = bill.Usage;
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", usage.InputTokens);
        writer.WriteNumber("completion_tokens", usage.OutputTokens);
        writer.WriteNumber("total_tokens", usage.TotalTokens);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", usage.CachedInputTokens);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", usage.ReasoningTokens);
        writer.WriteEndObject();
        writer.WriteNumber(CostInjector.Field, bill.CostNanos);
        if (bill.Estimated)
        {
            writer.WriteBoolean("estimated", true);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes the <c>tool_calls</c> array of a chat message from a Messages <paramref name="content"/> array's
    /// <c>tool_use</c> blocks (each input as the call's arguments text), leaving out the one named
    /// <paramref name="skipName"/>; nothing when there is no such block.
    /// </summary>
    public static void WriteToolCalls(Utf8JsonWriter writer, JsonElement content, string? skipName = null)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        bool any = false;
        foreach (var block in content.EnumerateArray())
        {
            if (String(block, "type") != "tool_use" || (skipName is not null && String(block, "name") == skipName))
            {
                continue;
            }

            if (!any)
            {
                writer.WriteStartArray("tool_calls");
                any = true;
            }

            writer.WriteStartObject();
            writer.WriteString("id", String(block, "id") ?? "");
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", String(block, "name") ?? "");
            writer.WriteString("arguments", block.TryGetProperty("input", out var input) ? input.GetRawText() : "{}");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        if (any)
        {
            writer.WriteEndArray();
        }
    }
}
