using Tollgate.Pricing;

namespace Tollgate.Audit;

/// <summary>
/// One attempt of a request at an upstream, as its audit record lists it (<see cref="AuditRecord.Attempts"/>): a
/// call that was admitted, reserved and billed on its own, or a candidate passed over before anything was reserved
/// (its breaker open, its upstream cooling down after a 429, its quota used up).
/// </summary>
public sealed record UpstreamAttempt
{
    /// <summary>The upstream's name.</summary>
    public required string Upstream { get; init; }

    /// <summary>The model's public name.</summary>
    public required string Model { get; init; }

    /// <summary>The upstream's status, when it answered with headers.</summary>
    public int? Status { get; init; }

    /// <summary>How the attempt ended: <c>ok</c>, or the reason code of its failure or of passing it over (e.g. <c>upstream_unavailable</c>).</summary>
    public required string Reason { get; init; }

    /// <summary>Tokens billed for the attempt.</summary>
    public TokenUsage Usage { get; init; }

    /// <summary>Its cost in nano-dollars, at its own model's prices.</summary>
    public long CostNanos { get; init; }

    /// <summary>The part of <see cref="CostNanos"/> that is hosted tool call fees.</summary>
    public long ToolFeeNanos { get; init; }

    /// <summary>Its reservation (whose lease the record's write deletes); null when the candidate was passed over before reserving.</summary>
    public string? ReservationId { get; init; }
}
