using Tollgate.Audit;
using Tollgate.Pricing;

namespace Tollgate.Stores.Contracts;

/// <summary>Audit records for ledger tests. Instants are whole milliseconds (what every backend keeps).</summary>
public static class TestAuditRecords
{
    /// <summary>A fixed instant with a millisecond part.</summary>
    public static readonly DateTimeOffset T0 = new(2025, 6, 1, 12, 0, 0, 123, TimeSpan.Zero);

    /// <summary>A record with every optional field set to a value that tests its column's range.</summary>
    public static AuditRecord Full(string requestId = "req-full", DateTimeOffset? at = null) => new()
    {
        Timestamp = at ?? T0,
        RequestId = requestId,
        UpstreamRequestId = "chatcmpl-ünïcødé-😀",
        Endpoint = "chat.completions",
        KeyId = "key_0123456789abcdef0123",
        Tenant = "acme",
        User = "alice",
        Model = "sim-large",
        Upstream = "simulator",
        Decision = Decisions.Allowed,
        Reason = "ok",
        Stream = true,
        Usage = new TokenUsage(int.MaxValue + 7L, 1_234_567_890_123, 9_876_543_210_987, 42)
        {
            ToolCalls = int.MaxValue + 11L,
            CacheWrite5mTokens = 3_000_000_000_017,
            CacheWrite1hTokens = 19,
        },
        CostNanos = (1L << 62) - 1,
        ToolFeeNanos = (1L << 61) + 5,
        UsageSource = UsageSource.Estimated,
        Status = 200,
        UpstreamStatus = 201,
        LatencyMs = 12.345678901234567,
        UpstreamLatencyMs = 0.1 + 0.2,
        ClientAborted = true,
        Task = "task-ünï-42",
        SourceAddress = "2001:db8:85a3::/64",
        ReservationId = "rsv_full",
        OutputCap = int.MaxValue + 9L,
        Overshoot = true,
        ShadowRefusals = "tenant acme: tokens per minute; key key_1: requests per day",
        Warning = "plan basic: 80% of budget per day",
        ReportedInputTokens = long.MaxValue,
        ReportedOutputTokens = 9_000_000_000_000_000_000,
        UsageClamped = true,
        BillingRule = "stream_cut_without_usage:estimate",
    };

    /// <summary>A refused record with every optional field unset.</summary>
    public static AuditRecord Minimal(string requestId = "req-min", DateTimeOffset? at = null) => new()
    {
        Timestamp = at ?? T0,
        RequestId = requestId,
        Endpoint = "chat.completions",
        Decision = Decisions.Refused,
        Reason = "invalid_api_key",
        Status = 401,
    };

    /// <summary>An allowed, reported request of <paramref name="tenant"/>/<paramref name="user"/> on <paramref name="model"/>.</summary>
    public static AuditRecord Usage(string? tenant, string? user, string? model, long input, long cached, long output, long reasoning, long cost,
        DateTimeOffset? at = null, string? requestId = null, string decision = Decisions.Allowed, UsageSource source = UsageSource.Reported) => new()
        {
            Timestamp = at ?? T0,
            RequestId = requestId ?? $"req-{tenant}-{user}-{model}-{input}",
            Endpoint = "chat.completions",
            Tenant = tenant,
            User = user,
            Model = model,
            Decision = decision,
            Reason = decision == Decisions.Allowed ? "ok" : "model_not_allowed",
            Usage = new TokenUsage(input, cached, output, reasoning),
            CostNanos = cost,
            UsageSource = source,
            Status = decision == Decisions.Allowed ? 200 : 403,
        };

    /// <summary>A lease with every optional field set to a value that tests its column's range.</summary>
    public static ReservationLease Lease(string id, DateTimeOffset? at = null) => new()
    {
        Id = id,
        Timestamp = at ?? T0,
        RequestId = "req-" + id,
        Endpoint = "chat.completions",
        KeyId = "key_0123456789abcdef0123",
        Tenant = "acme",
        User = "alice ✓",
        Model = "sim-large",
        Upstream = "simulator",
        Task = "task-7",
        SourceAddress = "203.0.113.9",
        Usage = new TokenUsage(int.MaxValue + 3L, 0, 4096L * 128, 0) { ToolCalls = 17 },
        CostNanos = (1L << 62) - 3,
        ToolFeeNanos = 170_000_000,
    };

    /// <summary>A lease with every optional field unset.</summary>
    public static ReservationLease MinimalLease(string id, DateTimeOffset? at = null) => Lease(id, at) with { Task = null, SourceAddress = null };
}
