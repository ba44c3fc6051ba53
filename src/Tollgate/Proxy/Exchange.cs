using System.Diagnostics;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Identity;
using Tollgate.Pricing;

namespace Tollgate.Proxy;

/// <summary>One request's state on its way through the gateway; becomes its audit record at the end.</summary>
internal sealed class Exchange(HttpContext http, string endpoint, string requestId, DateTimeOffset timestamp)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _upstreamStarted;
    private long _upstreamElapsed;

    public HttpContext Http { get; } = http;

    public string Endpoint { get; } = endpoint;

    public string RequestId { get; } = requestId;

    public DateTimeOffset Timestamp { get; } = timestamp;

    public string? KeyId { get; set; }

    public CallerIdentity? Caller { get; set; }

    public string? RequestedModel { get; set; }

    public ModelDefinition? Model { get; set; }

    public bool Stream { get; set; }

    public string Decision { get; set; } = Decisions.Refused;

    public string Reason { get; set; } = "ok";

    public int? UpstreamStatus { get; set; }

    public string? UpstreamRequestId { get; set; }

    public TokenUsage Usage { get; set; }

    public UsageSource UsageSource { get; set; }

    public long CostNanos { get; set; }

    public bool ClientAborted { get; set; }

    public string? Task { get; set; }

    public string? SourceAddress { get; set; }

    public string? ShadowRefusals { get; set; }

    public Admission? Admission { get; set; }

    public bool Overshoot { get; set; }

    /// <summary>The upstream's own well-formed usage, when it reported one (kept beside the billed figures).</summary>
    public TokenUsage? ReportedUsage { get; set; }

    public bool UsageClamped { get; set; }

    public string? BillingRule { get; set; }

    public void UpstreamStarted() => _upstreamStarted = Stopwatch.GetTimestamp();

    public void UpstreamEnded()
    {
        if (_upstreamStarted != 0)
        {
            _upstreamElapsed = Stopwatch.GetTimestamp() - _upstreamStarted;
            _upstreamStarted = 0;
        }
    }

    /// <summary>Sets usage and its exact cost at the model's prices.</summary>
    public void Bill(TokenUsage usage, UsageSource source)
    {
        Usage = usage;
        UsageSource = source;
        CostNanos = Model is null ? 0 : Model.Price.CostNanos(usage);
    }

    public AuditRecord ToRecord()
    {
        UpstreamEnded();
        return new AuditRecord
        {
            Timestamp = Timestamp,
            RequestId = RequestId,
            UpstreamRequestId = UpstreamRequestId,
            Endpoint = Endpoint,
            KeyId = Caller?.KeyId ?? KeyId,
            Tenant = Caller?.Tenant,
            User = Caller?.User,
            Model = Model?.Name ?? Truncate(RequestedModel),
            Upstream = Model?.UpstreamName,
            Decision = Decision,
            Reason = Reason,
            Stream = Stream,
            Usage = Usage,
            CostNanos = CostNanos,
            UsageSource = UsageSource,
            Status = Http.Response.StatusCode,
            UpstreamStatus = UpstreamStatus,
            LatencyMs = Stopwatch.GetElapsedTime(_started).TotalMilliseconds,
            UpstreamLatencyMs = TimeSpan.FromTicks(_upstreamElapsed * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalMilliseconds,
            ClientAborted = ClientAborted,
            Task = Task,
            SourceAddress = SourceAddress,
            ReservationId = Admission?.Reservation.Id,
            OutputCap = Admission?.OutputCap,
            Overshoot = Overshoot,
            ReportedInputTokens = ReportedUsage?.InputTokens,
            ReportedOutputTokens = ReportedUsage?.OutputTokens,
            UsageClamped = UsageClamped,
            BillingRule = BillingRule,
            ShadowRefusals = ShadowRefusals,
            Warning = Admission?.Warning,
        };
    }

    // A caller-supplied model name is audited, but bounded.
    private static string? Truncate(string? value) => value is { Length: > 128 } ? value[..128] : value;
}
