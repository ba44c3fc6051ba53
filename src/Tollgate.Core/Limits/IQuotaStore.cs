namespace Tollgate.Limits;

/// <summary>
/// Counters for every limit, with an all-or-nothing reserve step. The invariant every implementation keeps, for
/// every limit at every instant: settled + outstanding reservations ≤ limit (a non-streamed upstream overrun, billed
/// as it came, is the only way past it, and is flagged). Every implementation passes the same contract tests; a
/// distributed one must keep all counters of one reservation in one atomic operation (for Redis Cluster: one hash
/// slot, e.g. by hashing on the tenant).
/// </summary>
public interface IQuotaStore
{
    /// <summary>
    /// Checks every limit and, only if all enforced ones have room, reserves the request's amounts on all of them
    /// at once. With <paramref name="minOutput"/> below <paramref name="requestedOutput"/>, the output cap is lowered
    /// to the largest every limit can afford (never below <paramref name="minOutput"/>) instead of refusing.
    /// </summary>
    AdmissionDecision TryReserve(IReadOnlyList<LimitCheck> checks, long requestedOutput, long minOutput, DateTimeOffset now);

    /// <summary>Replaces a reservation by what was actually consumed and releases concurrency. Idempotent.</summary>
    void Settle(Reservation reservation, ActualUsage actual, DateTimeOffset now);

    /// <summary>Undoes a reservation entirely (the request was refused after all, e.g. its lease could not be written): it consumes nothing.</summary>
    void Release(Reservation reservation);

    /// <summary>Counts consumption that happened at <paramref name="at"/> without checking limits (rebuilding from the ledger).</summary>
    void Replay(IReadOnlyList<LimitCheck> checks, ActualUsage actual, DateTimeOffset at, DateTimeOffset now);

    /// <summary>Each visible enforced limit's state now, as <see cref="AdmissionDecision.Statuses"/> reports it, reserving nothing (for the headers of a refusal decided before admission).</summary>
    IReadOnlyList<LimitStatus> Peek(IReadOnlyList<LimitCheck> checks, DateTimeOffset now);

    /// <summary>What <paramref name="check"/>'s counter holds now (settled plus reserved).</summary>
    long Used(LimitCheck check, DateTimeOffset now);

    /// <summary>Reservations not yet settled.</summary>
    int Outstanding { get; }
}
