using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// Writes the Responses API's <c>response</c> object of a translated answer: the generated id, the status (and why it
/// is incomplete), what the request asked for echoed back, the output items, and the billed usage with its cost. A
/// translated response is never stored upstream, so it says <c>"store": false</c> whatever the request said.
/// </summary>
internal static class ResponsesObject
{
    /// <summary>The status of a finished chat answer: <c>completed</c>, or <c>incomplete</c> with its reason.</summary>
    public static (string Status, string? IncompleteReason) StatusOf(string? finishReason) => finishReason switch
    {
        "length" => ("incomplete", "max_output_tokens"),
        "content_filter" => ("incomplete", "content_filter"),
        _ => ("completed", null),
    };

    /// <summary>
    /// Writes the object, <paramref name="status"/> <c>in_progress</c> (no usage yet) or final with
    /// <paramref name="usage"/>.
    /// </summary>
    public static void Write(Utf8JsonWriter json, in Header header, string status, string? incompleteReason,
        IReadOnlyList<ResponsesOutputItem> output, TranslatedUsage? usage)
    {
        var request = header.Request;
        json.WriteStartObject();
        json.WriteString("id", header.Id);
        json.WriteString("object", "response");
        json.WriteNumber("created_at", header.CreatedAt);
        json.WriteString("status", status);
        json.WriteBoolean("background", false);
        json.WriteNull("error");
        if (incompleteReason is null)
        {
            json.WriteNull("incomplete_details");
        }
        else
        {
            json.WriteStartObject("incomplete_details");
            json.WriteString("reason", incompleteReason);
            json.WriteEndObject();
        }

        Echo(json, request, "instructions", null);
        Echo(json, request, "max_output_tokens", null);
        json.WriteString("model", header.Model);
        json.WriteStartArray("output");
        foreach (var item in output)
        {
            item.Write(json);
        }

        json.WriteEndArray();
        Echo(json, request, "parallel_tool_calls", static j => j.WriteBooleanValue(true));
        json.WriteNull("previous_response_id");
        Echo(json, request, "reasoning", static j =>
        {
            j.WriteStartObject();
            j.WriteNull("effort");
            j.WriteNull("summary");
            j.WriteEndObject();
        });
        json.WriteBoolean("store", false);
        Echo(json, request, "temperature", static j => j.WriteNumberValue(1));
        json.WriteStartObject("text");
        if (request.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.Object && text.TryGetProperty("format", out var format)
            && format.ValueKind == JsonValueKind.Object)
        {
            json.WritePropertyName("format");
            format.WriteTo(json);
        }
        else
        {
            json.WriteStartObject("format");
            json.WriteString("type", "text");
            json.WriteEndObject();
        }

        json.WriteEndObject();
        Echo(json, request, "tool_choice", static j => j.WriteStringValue("auto"));
        Echo(json, request, "tools", static j =>
        {
            j.WriteStartArray();
            j.WriteEndArray();
        });
        Echo(json, request, "top_p", static j => j.WriteNumberValue(1));
        json.WriteString("truncation", "disabled");
        if (usage is { } bill)
        {
            WriteUsage(json, bill);
        }
        else
        {
            json.WriteNull("usage");
        }

        Echo(json, request, "metadata", static j =>
        {
            j.WriteStartObject();
            j.WriteEndObject();
        });
        json.WriteEndObject();
    }

    /// <summary>The Responses usage object of the bill, with its cost (and <c>"estimated": true</c> when it is Tollgate's own count).</summary>
    public static void WriteUsage(Utf8JsonWriter json, in TranslatedUsage bill)
    {
        var usage = bill.Usage;
        json.WriteStartObject("usage");
        json.WriteNumber("input_tokens", usage.InputTokens);
        json.WriteStartObject("input_tokens_details");
        json.WriteNumber("cached_tokens", usage.CachedInputTokens);
        json.WriteEndObject();
        json.WriteNumber("output_tokens", usage.OutputTokens);
        json.WriteStartObject("output_tokens_details");
        json.WriteNumber("reasoning_tokens", usage.ReasoningTokens);
        json.WriteEndObject();
        json.WriteNumber("total_tokens", usage.TotalTokens);
        json.WriteNumber(CostInjector.Field, bill.CostNanos);
        if (bill.Estimated)
        {
            json.WriteBoolean("estimated", true);
        }

        json.WriteEndObject();
    }

    // The request's own value of a field, else the default (null when none is given).
    private static void Echo(Utf8JsonWriter json, JsonElement request, string name, Action<Utf8JsonWriter>? fallback)
    {
        json.WritePropertyName(name);
        if (request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            value.WriteTo(json);
        }
        else if (fallback is not null)
        {
            fallback(json);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    /// <summary>What identifies a translated response.</summary>
    /// <param name="Id">The generated <c>resp_…</c> id.</param>
    /// <param name="CreatedAt">The upstream's creation time (Unix seconds).</param>
    /// <param name="Model">The model that answered, as the upstream names it.</param>
    /// <param name="Request">The caller's request body.</param>
    public readonly record struct Header(string Id, long CreatedAt, string Model, JsonElement Request);
}
