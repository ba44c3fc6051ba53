using Tollgate.Limits;

namespace Tollgate.Stores.Contracts;

/// <summary>
/// A quota store that forwards to another one and hands out reservations of its own type. Built in this project,
/// which Tollgate.Core grants no access to its internals, it shows that a backend in its own assembly can make every
/// value the contract asks for (<see cref="Reservation"/>, <see cref="AdmissionDecision"/>, <see cref="LimitStatus"/>);
/// the in-memory store's test project runs <see cref="QuotaStoreContractTests"/> against it.
/// </summary>
public sealed class ForwardingQuotaStore(IQuotaStore inner) : IQuotaStore
{
    /// <inheritdoc />
    public int Outstanding => inner.Outstanding;

    /// <inheritdoc />
    public async ValueTask<AdmissionDecision> TryReserveAsync(IReadOnlyList<LimitCheck> checks, long requestedOutput, long minOutput, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var decision = await inner.TryReserveAsync(checks, requestedOutput, minOutput, now, cancellationToken).ConfigureAwait(false);
        var statuses = Copy(decision.Statuses);
        return decision.Admitted
            ? AdmissionDecision.Admit(new Forwarded(decision.Reservation!), statuses, decision.ShadowRefusals)
            : AdmissionDecision.Refuse(decision.RefusedBy!, decision.Used, decision.Requested, decision.OutputCap, decision.RetryAfter,
                decision.ResetsAt - decision.RetryAfter ?? now, statuses);
    }

    /// <inheritdoc />
    public ValueTask SettleAsync(Reservation reservation, ActualUsage actual, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.SettleAsync(Unwrap(reservation), actual, now, cancellationToken);

    /// <inheritdoc />
    public ValueTask ReleaseAsync(Reservation reservation, CancellationToken cancellationToken) =>
        inner.ReleaseAsync(Unwrap(reservation), cancellationToken);

    /// <inheritdoc />
    public async ValueTask<Reservation> HoldAsync(IReadOnlyList<LimitCheck> checks, long outputCap, DateTimeOffset at, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        new Forwarded(await inner.HoldAsync(checks, outputCap, at, now, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public ValueTask ReplayAsync(IReadOnlyList<LimitCheck> checks, ActualUsage actual, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.ReplayAsync(checks, actual, at, now, cancellationToken);

    /// <inheritdoc />
    public ValueTask<long> RestoreAsync(IAsyncEnumerable<PastUsage> history, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.RestoreAsync(history, now, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LimitStatus>> PeekAsync(IReadOnlyList<LimitCheck> checks, DateTimeOffset now, CancellationToken cancellationToken) =>
        Copy(await inner.PeekAsync(checks, now, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public ValueTask<long> UsedAsync(LimitCheck check, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.UsedAsync(check, now, cancellationToken);

    private static List<LimitStatus> Copy(IReadOnlyList<LimitStatus> statuses) =>
        [.. statuses.Select(s => new LimitStatus(s.Check, s.Remaining, s.ResetsIn, s.ResetsAt))];

    private static Reservation Unwrap(Reservation reservation) => reservation is Forwarded forwarded
        ? forwarded.Inner
        : throw new ArgumentException($"The reservation {reservation.Id} was not made by this store.", nameof(reservation));

    /// <summary>This store's handle: the inner store's reservation, under an id of its own.</summary>
    private sealed class Forwarded(Reservation inner) : Reservation("fwd_" + inner.Id, inner.At, inner.OutputCap)
    {
        public Reservation Inner { get; } = inner;
    }
}
