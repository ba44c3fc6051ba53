using System.Text;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.Pricing;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// A request's attempts as the column <c>audit.attempts</c> holds them: a JSON array of objects
/// (<c>upstream</c>, <c>model</c>, <c>status</c>, <c>reason</c>, the four token counts, <c>cost_nanos</c>,
/// <c>tool_calls</c> and <c>tool_fee_nanos</c> when there were hosted tool calls, <c>reservation_id</c>), or NULL for a request that made one attempt. Written with <see cref="Utf8JsonWriter"/> and
/// read with <see cref="JsonDocument"/> (no reflection).
/// </summary>
internal static class AttemptsJson
{
    /// <summary>The column's text: null (NULL) when there are none.</summary>
    public static string? ToJson(IReadOnlyList<UpstreamAttempt>? attempts)
    {
        if (attempts is null)
        {
            return null;
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var attempt in attempts)
            {
                writer.WriteStartObject();
                writer.WriteString("upstream", attempt.Upstream);
                writer.WriteString("model", attempt.Model);
                if (attempt.Status is { } status)
                {
                    writer.WriteNumber("status", status);
                }

                writer.WriteString("reason", attempt.Reason);
                writer.WriteNumber("input_tokens", attempt.Usage.InputTokens);
                writer.WriteNumber("cached_input_tokens", attempt.Usage.CachedInputTokens);
                writer.WriteNumber("output_tokens", attempt.Usage.OutputTokens);
                writer.WriteNumber("reasoning_tokens", attempt.Usage.ReasoningTokens);
                writer.WriteNumber("cost_nanos", attempt.CostNanos);
                if (attempt.Usage.ToolCalls != 0 || attempt.ToolFeeNanos != 0)
                {
                    writer.WriteNumber("tool_calls", attempt.Usage.ToolCalls);
                    writer.WriteNumber("tool_fee_nanos", attempt.ToolFeeNanos);
                }

                if (attempt.ReservationId is { } id)
                {
                    writer.WriteString("reservation_id", id);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>Reads the column; null when it is NULL.</summary>
    /// <exception cref="InvalidDataException">The column does not hold an array of attempts.</exception>
    public static IReadOnlyList<UpstreamAttempt>? Read(string? json, string requestId)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw Malformed(requestId, null);
            }

            var attempts = new List<UpstreamAttempt>(document.RootElement.GetArrayLength());
            foreach (var item in document.RootElement.EnumerateArray())
            {
                attempts.Add(new UpstreamAttempt
                {
                    Upstream = item.GetProperty("upstream").GetString()!,
                    Model = item.GetProperty("model").GetString()!,
                    Status = item.TryGetProperty("status", out var status) ? status.GetInt32() : null,
                    Reason = item.GetProperty("reason").GetString()!,
                    Usage = new TokenUsage(item.GetProperty("input_tokens").GetInt64(), item.GetProperty("cached_input_tokens").GetInt64(),
                        item.GetProperty("output_tokens").GetInt64(), item.GetProperty("reasoning_tokens").GetInt64())
                    {
                        ToolCalls = item.TryGetProperty("tool_calls", out var calls) ? calls.GetInt64() : 0,
                    },
                    CostNanos = item.GetProperty("cost_nanos").GetInt64(),
                    ToolFeeNanos = item.TryGetProperty("tool_fee_nanos", out var fee) ? fee.GetInt64() : 0,
                    ReservationId = item.TryGetProperty("reservation_id", out var id) ? id.GetString() : null,
                });
            }

            return attempts;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw Malformed(requestId, e);
        }
    }

    private static InvalidDataException Malformed(string requestId, Exception? inner) =>
        new($"The attempts of request {requestId} in the ledger are not a JSON array of attempts.", inner);
}
