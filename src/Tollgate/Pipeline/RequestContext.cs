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
    private List<UpstreamAttempt>? _attempts;
    private HeldReservation? _lastAttempt;

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

    /// <summary>The owner of the request's reservation, once admitted (of its current attempt, when it makes several).</summary>
    public HeldReservation? Reservation { get; set; }

    /// <summary>Whether an attempt of this request was admitted: a later one (a retry, a fallback) is a follow-up, and the request counts once.</summary>
    public bool Admitted { get; set; }

    /// <summary>
    /// Whether the answer came from a fallback rather than the model (and upstream) the caller asked for: such an
    /// answer must never be stored or served as the requested model's (a response cache keys on the request).
    /// </summary>
    public bool AnsweredByFallback { get; set; }

    /// <summary>Whether the request made or passed over more than one attempt, so its record lists them.</summary>
    public bool HasAttempts => _attempts is not null;

    /// <summary>
    /// Ends the current attempt, whose reservation is settled: it joins the record's attempts with
    /// <paramref name="reason"/>, and <see cref="Reservation"/> is free for the next attempt's.
    /// </summary>
    public void EndAttempt(string reason)
    {
        var held = Reservation!;
        (_attempts ??= new(4)).Add(AttemptOf(held, UpstreamStatus, reason));
        _lastAttempt = held;
        Reservation = null;
    }

    /// <summary>Records a candidate passed over before its call (nothing billed), with its reservation when one was made and released.</summary>
    public void PassOver(ModelDefinition model, string reason, string? releasedReservationId = null) =>
        (_attempts ??= new(4)).Add(new UpstreamAttempt { Upstream = model.UpstreamName, Model = model.Name, Reason = reason, ReservationId = releasedReservationId });

    /// <summary>
    /// The background response (Responses API) the request created, once the upstream accepted it: it owns the
    /// reservation from then on (the request ends without settling it) and writes the request's record when the
    /// response ends.
    /// </summary>
    public Background.BackgroundResponse? Background { get; set; }

    /// <summary>Whether the request holds one of the gateway's concurrency slots (<see cref="Steps.QueueStep"/>).</summary>
    public bool HoldsSlot { get; set; }

    /// <summary>The response cache's pending entry for this request's answer, when the cache applies and it went upstream.</summary>
    public CacheFill? CacheFill { get; set; }

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
        var current = Reservation;
        // With several attempts the record's own figures are the last admitted attempt's, its usage and cost the sums.
        var held = current ?? _lastAttempt;
        var admission = held?.Admission;
        var usage = current?.Usage ?? default;
        long cost = current?.CostNanos ?? 0;
        long toolFee = current?.ToolFeeNanos ?? 0;
        if (_attempts is not null)
        {
            if (current is not null)
            {
                _attempts.Add(AttemptOf(current, UpstreamStatus, Reason));
            }

            usage = default;
            cost = 0;
            toolFee = 0;
            foreach (var attempt in _attempts)
            {
                usage = usage.Plus(attempt.Usage);
                cost = Saturating.Add(cost, attempt.CostNanos);
                toolFee = Saturating.Add(toolFee, attempt.ToolFeeNanos);
            }
        }

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
            Usage = usage,
            CostNanos = cost,
            ToolFeeNanos = toolFee,
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
            Attempts = _attempts,
        };
    }

    private static UpstreamAttempt AttemptOf(HeldReservation held, int? status, string reason) => new()
    {
        Upstream = held.Model.UpstreamName,
        Model = held.Model.Name,
        Status = status,
        Reason = reason,
        Usage = held.Usage,
        CostNanos = held.CostNanos,
        ToolFeeNanos = held.ToolFeeNanos,
        ReservationId = held.Admission.Reservation.Id,
    };

    // A caller-supplied model name is audited, but bounded.
    private static string? Truncate(string? value) => value is { Length: > 128 } ? value[..128] : value;
}
