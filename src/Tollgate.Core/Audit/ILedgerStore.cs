namespace Tollgate.Audit;

/// <summary>Durable storage of audit records. Every implementation passes the same contract tests.</summary>
public interface ILedgerStore
{
    /// <summary>
    /// Writes a batch atomically: all of it or none of it. In the same transaction, deletes the reservation leases
    /// that the records settle (<see cref="AuditRecord.ReservationId"/> and each of <see cref="AuditRecord.Attempts"/>'
    /// reservations: <see cref="AuditRecord.SettledReservationIds"/>), so a crash can neither lose a settled
    /// request's spend nor leave its lease to be billed twice.
    /// </summary>
    Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken);

    /// <summary>Records a reservation lease before the upstream is called (synchronously durable).</summary>
    Task AddLeaseAsync(ReservationLease lease, CancellationToken cancellationToken);

    /// <summary>
    /// Takes and releases the store's write lock without changing anything: succeeds only when a write would. The
    /// ledger writer runs it while it is unavailable, to learn when records can be written again.
    /// </summary>
    Task ProbeWriteAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Notes on lease <paramref name="leaseId"/> that it holds the reservation of background response
    /// <paramref name="responseId"/> (synchronously durable), so that a restart resumes settling it rather than billing
    /// its worst case. No-op when the lease is gone (already settled).
    /// </summary>
    Task MarkBackgroundAsync(string leaseId, string responseId, CancellationToken cancellationToken);

    /// <summary>Leases with no settling record: requests that were in flight when the gateway stopped abruptly.</summary>
    Task<IReadOnlyList<ReservationLease>> ReadLeasesAsync(CancellationToken cancellationToken);

    /// <summary>Allowed records at or after <paramref name="since"/>, oldest first (to rebuild counters at start-up).</summary>
    IAsyncEnumerable<AuditRecord> ReadAllowedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>Sums usage, grouped by tenant, user and model.</summary>
    Task<IReadOnlyList<UsageSummary>> QueryUsageAsync(UsageQuery query, CancellationToken cancellationToken);

    /// <summary>Reads records (newest last), for inspection and tests.</summary>
    Task<IReadOnlyList<AuditRecord>> ReadAsync(UsageQuery query, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes records older than <paramref name="before"/>; returns how many.</summary>
    Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

/// <summary>A filter over the ledger.</summary>
public sealed record UsageQuery(string? Tenant = null, string? User = null, DateTimeOffset? Since = null, string? RequestId = null);

/// <summary>Usage summed for one (tenant, user, model).</summary>
public sealed record UsageSummary(string? Tenant, string? User, string? Model, long Requests, long Refused,
    long InputTokens, long CachedInputTokens, long OutputTokens, long ReasoningTokens, long CostNanos, long EstimatedRequests);
