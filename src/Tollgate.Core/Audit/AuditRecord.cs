using Tollgate.Pricing;

namespace Tollgate.Audit;

/// <summary>
/// The one ledger record every request produces, allowed or refused. Holds no prompt, completion or secret.
/// </summary>
public sealed record AuditRecord
{
    /// <summary>When the request arrived.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The gateway request id (the caller's <c>x-request-id</c> or a generated one).</summary>
    public required string RequestId { get; init; }

    /// <summary>The upstream's own request id, when it sent one.</summary>
    public string? UpstreamRequestId { get; init; }

    /// <summary>The endpoint, e.g. <c>chat.completions</c>.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The key's id; set also for revoked or expired keys.</summary>
    public string? KeyId { get; init; }

    /// <summary>The key's tenant.</summary>
    public string? Tenant { get; init; }

    /// <summary>The key's user.</summary>
    public string? User { get; init; }

    /// <summary>The resolved public model name (or what the caller asked for when unknown).</summary>
    public string? Model { get; init; }

    /// <summary>The upstream's name.</summary>
    public string? Upstream { get; init; }

    /// <summary><see cref="Decisions.Allowed"/> or <see cref="Decisions.Refused"/>.</summary>
    public required string Decision { get; init; }

    /// <summary>The reason code: <c>ok</c>, or an error code such as <c>invalid_api_key</c>, <c>model_not_allowed</c>, <c>upstream_error</c>.</summary>
    public required string Reason { get; init; }

    /// <summary>Whether the response was streamed.</summary>
    public bool Stream { get; init; }

    /// <summary>Tokens billed.</summary>
    public TokenUsage Usage { get; init; }

    /// <summary>Cost in nano-dollars: the tokens' and the hosted tool calls' fees (<see cref="ToolFeeNanos"/>).</summary>
    public long CostNanos { get; init; }

    /// <summary>The part of <see cref="CostNanos"/> that is the fees of the hosted tool calls billed (<see cref="TokenUsage.ToolCalls"/>).</summary>
    public long ToolFeeNanos { get; init; }

    /// <summary>Where <see cref="Usage"/> came from.</summary>
    public UsageSource UsageSource { get; init; }

    /// <summary>The status returned to the caller.</summary>
    public int Status { get; init; }

    /// <summary>The upstream's status, when it was called.</summary>
    public int? UpstreamStatus { get; init; }

    /// <summary>Total time in the gateway, in milliseconds.</summary>
    public double LatencyMs { get; init; }

    /// <summary>Of which the upstream took, in milliseconds.</summary>
    public double UpstreamLatencyMs { get; init; }

    /// <summary>Whether the caller went away before the response ended.</summary>
    public bool ClientAborted { get; init; }

    /// <summary>The agent task id (<c>x-tollgate-task</c>), when given.</summary>
    public string? Task { get; init; }

    /// <summary>The client address the source-address limits counted (IPv6 as its /64).</summary>
    public string? SourceAddress { get; init; }

    /// <summary>The admission reservation this record settles; its lease is deleted in the same transaction as this record is written.</summary>
    public string? ReservationId { get; init; }

    /// <summary>The output cap the request was admitted with (after defaults and clamping), when it was admitted.</summary>
    public long? OutputCap { get; init; }

    /// <summary>Whether the upstream produced more output than was reserved (billed as it came; counted as overshoot).</summary>
    public bool Overshoot { get; init; }

    /// <summary>Shadow limits that would have refused, e.g. <c>tenant acme: tokens per minute</c>; null when none.</summary>
    public string? ShadowRefusals { get; init; }

    /// <summary>
    /// The input and output tokens the upstream reported, when it reported well-formed usage; they differ from
    /// <see cref="Usage"/> only when <see cref="UsageClamped"/>.
    /// </summary>
    public long? ReportedInputTokens { get; init; }

    /// <summary>See <see cref="ReportedInputTokens"/>.</summary>
    public long? ReportedOutputTokens { get; init; }

    /// <summary>
    /// Whether reported usage was above what the request can physically produce (input above the model's context
    /// window, output above its maximum output × choices) and was billed at that bound instead.
    /// </summary>
    public bool UsageClamped { get; init; }

    /// <summary>
    /// For an unknown upstream outcome, the outcome and the rule it was billed under, e.g.
    /// <c>timeout_before_headers:reservation</c>; null when the upstream's own usage was billed.
    /// </summary>
    public string? BillingRule { get; init; }

    /// <summary>A budget warning raised by this request (first crossing of the threshold in a window); null when none.</summary>
    public string? Warning { get; init; }

    /// <summary>
    /// Every attempt of a request that was retried or went to a fallback, in order (the last is the one whose outcome
    /// the caller saw); null for a request that made one attempt at its own model, which the record's own fields
    /// describe. <see cref="Usage"/> and <see cref="CostNanos"/> are then the sums over the attempts, and writing the
    /// record deletes the lease of each attempt's reservation.
    /// </summary>
    public IReadOnlyList<UpstreamAttempt>? Attempts { get; init; }

    /// <summary>The reservation ids this record settles: its own and those of its attempts.</summary>
    public IEnumerable<string> SettledReservationIds()
    {
        if (ReservationId is { } own)
        {
            yield return own;
        }

        if (Attempts is { } attempts)
        {
            foreach (var attempt in attempts)
            {
                if (attempt.ReservationId is { } id && id != ReservationId)
                {
                    yield return id;
                }
            }
        }
    }
}

/// <summary>Values of <see cref="AuditRecord.Decision"/>.</summary>
public static class Decisions
{
    /// <summary>Forwarded to the upstream.</summary>
    public const string Allowed = "allowed";

    /// <summary>Refused by the gateway; nothing was forwarded.</summary>
    public const string Refused = "refused";
}
