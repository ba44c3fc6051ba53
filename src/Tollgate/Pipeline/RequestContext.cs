using System.Diagnostics;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Identity;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocols;

namespace Tollgate.Pipeline;

/// <summary>
/// One request on its way through the pipeline: what each step found out (who the caller is, what they asked for,
/// the reservation that holds their worst case, what the upstream did), read by the later steps and, at the end,
/// turned into the request's one audit record. The bill itself is held by the reservation's owner,
/// <see cref="HeldReservation"/>.
/// </summary>
internal sealed class RequestContext(HttpContext http, string endpoint, ICallerProtocol protocol, GatewayConfig config, string requestId, DateTimeOffset timestamp)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _upstreamStarted;
    private long _upstreamElapsed;

    public HttpContext Http { get; } = http;

    /// <summary>The endpoint's audit name.</summary>
    public string Endpoint { get; } = endpoint;

    /// <summary>Writes the gateway's own answers in the caller's protocol.</summary>
    public ICallerProtocol Protocol { get; } = protocol;

    /// <summary>The configuration this request runs under from start to end (a reload applies to the next one).</summary>
    public GatewayConfig Config { get; } = config;

    public string RequestId { get; } = requestId;

    public DateTimeOffset Timestamp { get; } = timestamp;

    /// <summary>The key id a failed authentication named, for the audit record.</summary>
    public string? KeyId { get; set; }

    public CallerIdentity? Caller { get; set; }

    /// <summary>The model name the caller sent (audited, bounded, even when it names no model).</summary>
    public string? RequestedModel { get; set; }

    public ModelRequest? Request { get; set; }

    public ModelDefinition? Model { get; set; }

    public bool Stream { get; set; }

    public string? Task { get; set; }

    public string? SourceAddress { get; set; }

    public string Decision { get; set; } = Decisions.Refused;

    public string Reason { get; set; } = AuditReasons.Ok;

    public bool ClientAborted { get; set; }

    public string? ShadowRefusals { get; set; }

    public int? UpstreamStatus { get; set; }

    public string? UpstreamRequestId { get; set; }

    /// <summary>The owner of the request's reservation, once admitted.</summary>
    public HeldReservation? Reservation { get; set; }

    /// <summary>Whether the request holds one of the gateway's concurrency slots (<see cref="Steps.QueueStep"/>).</summary>
    public bool HoldsSlot { get; set; }

    public void UpstreamStarted() => _upstreamStarted = Stopwatch.GetTimestamp();

    public void UpstreamEnded()
    {
        if (_upstreamStarted != 0)
        {
            _upstreamElapsed = Stopwatch.GetTimestamp() - _upstreamStarted;
            _upstreamStarted = 0;
        }
    }

    public AuditRecord ToRecord()
    {
        UpstreamEnded();
        var held = Reservation;
        var admission = held?.Admission;
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
            Usage = held?.Usage ?? default,
            CostNanos = held?.CostNanos ?? 0,
            UsageSource = held?.Source ?? UsageSource.None,
            Status = Http.Response.StatusCode,
            UpstreamStatus = UpstreamStatus,
            LatencyMs = Stopwatch.GetElapsedTime(_started).TotalMilliseconds,
            UpstreamLatencyMs = TimeSpan.FromTicks(_upstreamElapsed * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalMilliseconds,
            ClientAborted = ClientAborted,
            Task = Task,
            SourceAddress = SourceAddress,
            ReservationId = admission?.Reservation.Id,
            OutputCap = admission?.OutputCap,
            Overshoot = held?.Overshoot ?? false,
            ReportedInputTokens = held?.Reported?.InputTokens,
            ReportedOutputTokens = held?.Reported?.OutputTokens,
            UsageClamped = held?.Clamped ?? false,
            BillingRule = held?.Rule,
            ShadowRefusals = ShadowRefusals,
            Warning = admission?.Warning,
        };
    }

    // A caller-supplied model name is audited, but bounded.
    private static string? Truncate(string? value) => value is { Length: > 128 } ? value[..128] : value;
}
