namespace Tollgate.Limits;

/// <summary>
/// Counters for every limit, with an all-or-nothing reserve step. The invariant every implementation keeps, for
/// every limit at every instant: settled + outstanding reservations ≤ limit (a non-streamed upstream overrun, billed
/// as it came, is the only way past it, and is flagged). Every implementation passes the same contract tests; a
/// distributed one must keep all counters of one reservation in one atomic operation (for Redis Cluster: one hash
/// slot, e.g. by hashing on the tenant). Time never runs backwards inside a store: a <c>now</c> earlier than one it
/// has seen counts as that one, so a wall clock stepped back cannot make counted amounts vanish. Operations return
/// <see cref="ValueTask"/>s: a store in process memory completes them synchronously, one across the network does not.
/// </summary>
public interface IQuotaStore
{
    /// <summary>
    /// Checks every limit and, only if all enforced ones have room, reserves the request's amounts on all of them
    /// at once. With <paramref name="minOutput"/> below <paramref name="requestedOutput"/>, the output cap is lowered
    /// to the largest every limit can afford (never below <paramref name="minOutput"/>) instead of refusing. A
    /// cancelled call reserves nothing: it either returns the decision or throws having left every counter as it was.
    /// </summary>
    ValueTask<AdmissionDecision> TryReserveAsync(IReadOnlyList<LimitCheck> checks, long requestedOutput, long minOutput, DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a reservation by what was actually consumed and releases concurrency. Idempotent. Callers settle
    /// whatever happened to the request, so they pass a token that the request's end does not cancel.
    /// </summary>
    ValueTask SettleAsync(Reservation reservation, ActualUsage actual, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Undoes a reservation entirely (the request was refused after all, e.g. its lease could not be written): it consumes nothing.</summary>
    ValueTask ReleaseAsync(Reservation reservation, CancellationToken cancellationToken);

    /// <summary>
    /// Reserves <paramref name="outputCap"/>'s amounts on every check at once without checking any limit, counted as
    /// made at <paramref name="at"/>: a reservation made before a restart (a background response still running
    /// upstream) held again, so that it is settled to what the upstream reports rather than forgotten. Settled or
    /// released like any other reservation.
    /// </summary>
    ValueTask<Reservation> HoldAsync(IReadOnlyList<LimitCheck> checks, long outputCap, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Counts consumption that happened at <paramref name="at"/> without checking limits (rebuilding from the ledger).</summary>
    ValueTask ReplayAsync(IReadOnlyList<LimitCheck> checks, ActualUsage actual, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// At start-up, brings the counters up to date with what was consumed before this process started, and returns
    /// how many entries of <paramref name="history"/> it counted. A store in process memory counts every entry as
    /// <see cref="ReplayAsync"/> does; a store whose counters outlive the process (Redis, PostgreSQL) already holds
    /// them, returns 0 and does not enumerate <paramref name="history"/>, so the ledger is not read.
    /// </summary>
    ValueTask<long> RestoreAsync(IAsyncEnumerable<PastUsage> history, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Each visible enforced limit's state now, as <see cref="AdmissionDecision.Statuses"/> reports it, reserving nothing (for the headers of a refusal decided before admission).</summary>
    ValueTask<IReadOnlyList<LimitStatus>> PeekAsync(IReadOnlyList<LimitCheck> checks, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>What <paramref name="check"/>'s counter holds now (settled plus reserved).</summary>
    ValueTask<long> UsedAsync(LimitCheck check, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Reservations this instance gave out that are not yet settled or released.</summary>
    int Outstanding { get; }
}
