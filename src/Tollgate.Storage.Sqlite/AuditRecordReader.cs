using Microsoft.Data.Sqlite;
using Tollgate.Audit;
using Tollgate.Pricing;

namespace Tollgate.Storage.Sqlite;

/// <summary>Reads <see cref="AuditRecord"/>s from rows selected with <see cref="Columns"/>.</summary>
internal static class AuditRecordReader
{
    public const string Columns =
        "ts, request_id, upstream_request_id, endpoint, key_id, tenant, user, model, upstream, decision, reason, stream, "
        + "input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_nanos, usage_source, status, "
        + "upstream_status, latency_ms, upstream_latency_ms, client_aborted, task, source_address, reservation_id, output_cap, "
        + "overshoot, shadow_refusals, warning, reported_input_tokens, reported_output_tokens, usage_clamped, billing_rule, "
        + "cache_write_5m_tokens, cache_write_1h_tokens, attempts, tool_calls, tool_fee_nanos";

    public static AuditRecord Read(SqliteDataReader reader) => new()
    {
        Timestamp = DbValue.GetTime(reader, 0),
        RequestId = reader.GetString(1),
        UpstreamRequestId = DbValue.GetNullableString(reader, 2),
        Endpoint = reader.GetString(3),
        KeyId = DbValue.GetNullableString(reader, 4),
        Tenant = DbValue.GetNullableString(reader, 5),
        User = DbValue.GetNullableString(reader, 6),
        Model = DbValue.GetNullableString(reader, 7),
        Upstream = DbValue.GetNullableString(reader, 8),
        Decision = reader.GetString(9),
        Reason = reader.GetString(10),
        Stream = reader.GetInt64(11) != 0,
        Usage = new TokenUsage(reader.GetInt64(12), reader.GetInt64(13), reader.GetInt64(14), reader.GetInt64(15))
        {
            CacheWrite5mTokens = reader.GetInt64(34),
            CacheWrite1hTokens = reader.GetInt64(35),
            ToolCalls = reader.GetInt64(37),
        },
        ToolFeeNanos = reader.GetInt64(38),
        CostNanos = reader.GetInt64(16),
        UsageSource = (UsageSource)reader.GetInt32(17),
        Status = reader.GetInt32(18),
        UpstreamStatus = DbValue.GetNullableInt32(reader, 19),
        LatencyMs = reader.GetDouble(20),
        UpstreamLatencyMs = reader.GetDouble(21),
        ClientAborted = reader.GetInt64(22) != 0,
        Task = DbValue.GetNullableString(reader, 23),
        SourceAddress = DbValue.GetNullableString(reader, 24),
        ReservationId = DbValue.GetNullableString(reader, 25),
        OutputCap = DbValue.GetNullableInt64(reader, 26),
        Overshoot = reader.GetInt64(27) != 0,
        ShadowRefusals = DbValue.GetNullableString(reader, 28),
        Warning = DbValue.GetNullableString(reader, 29),
        ReportedInputTokens = DbValue.GetNullableInt64(reader, 30),
        ReportedOutputTokens = DbValue.GetNullableInt64(reader, 31),
        UsageClamped = reader.GetInt64(32) != 0,
        BillingRule = DbValue.GetNullableString(reader, 33),
        Attempts = AttemptsJson.Read(DbValue.GetNullableString(reader, 36), reader.GetString(1)),
    };
}
