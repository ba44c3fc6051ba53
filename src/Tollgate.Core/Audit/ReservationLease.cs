using Tollgate.Pricing;

namespace Tollgate.Audit;

/// <summary>
/// A durable note that a request was admitted with a reservation and has not been settled yet. If the gateway dies
/// before settling, the lease is billed at the reserved worst case at the next start (<see cref="UsageSource.Reserved"/>).
/// </summary>
public sealed record ReservationLease
{
    /// <summary>The reservation id.</summary>
    public required string Id { get; init; }

    /// <summary>When the request was admitted.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The request id.</summary>
    public required string RequestId { get; init; }

    /// <summary>The endpoint.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The key.</summary>
    public required string KeyId { get; init; }

    /// <summary>The tenant.</summary>
    public required string Tenant { get; init; }

    /// <summary>The user.</summary>
    public required string User { get; init; }

    /// <summary>The model.</summary>
    public required string Model { get; init; }

    /// <summary>The upstream.</summary>
    public required string Upstream { get; init; }

    /// <summary>The task, if any.</summary>
    public string? Task { get; init; }

    /// <summary>The source address, if counted.</summary>
    public string? SourceAddress { get; init; }

    /// <summary>The worst-case usage reserved (input tokens; output = cap × choices).</summary>
    public required TokenUsage Usage { get; init; }

    /// <summary>The worst-case cost reserved, in nano-dollars.</summary>
    public required long CostNanos { get; init; }

    /// <summary>
    /// The upstream's id of the background response (Responses API) the lease holds the reservation of, once the
    /// upstream accepted it; null for a request that ends with its call. Such a lease is not billed at its worst case
    /// at the next start: the gateway holds its reservation again and resumes settling it from the upstream.
    /// </summary>
    public string? BackgroundResponseId { get; init; }

    /// <summary>The part of <see cref="CostNanos"/> reserved for hosted tool call fees (<c>Usage.ToolCalls</c> calls at the highest fee).</summary>
    public long ToolFeeNanos { get; init; }

    /// <summary>
    /// The record of the admitted request this lease stands for, rebuilt after a restart: who, what and when from the
    /// lease, with <paramref name="reason"/> and <paramref name="status"/>; no usage or cost (the caller adds the bill).
    /// </summary>
    public AuditRecord ToRecord(string reason, int status) => new()
    {
        Timestamp = Timestamp,
        RequestId = RequestId,
        Endpoint = Endpoint,
        KeyId = KeyId,
        Tenant = Tenant,
        User = User,
        Model = Model,
        Upstream = Upstream,
        Decision = Decisions.Allowed,
        Reason = reason,
        Status = status,
        Task = Task,
        SourceAddress = SourceAddress,
        ReservationId = Id,
    };
}
