using Tollgate.Security;

namespace Tollgate.Limits;

/// <summary>
/// An <see cref="IQuotaStore"/> in process memory. Admission is atomic by construction: one lock covers checking and
/// reserving every limit of a request, so no interleaving of concurrent requests can overshoot a limit. The lock is
/// held for a few microseconds (no I/O inside), and every operation completes synchronously. The counters live as long
/// as the process: at start-up <see cref="RestoreAsync"/> rebuilds them from the ledger.
/// </summary>
public sealed class InMemoryQuotaStore : IQuotaStore
{
    private const int PurgeEvery = 8192;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Scope, Metric Metric, Window Window), Counter> _counters = [];
    private int _outstanding;
    private int _operations;

    // Counts the purges that dropped counters: a reservation's lines keep their counters, valid while this is unchanged.
    private int _purges;
    private DateTimeOffset _lastNow = DateTimeOffset.MinValue;

    // An operation's counters and slots, looked up once per check (under the lock, so one set serves every caller).
    private Counter[] _resolved = new Counter[32];
    private long[] _resolvedSlots = new long[32];

    // The calendar periods of the operation's instant, per window and time zone: a request checks the same day and
    // month in the same zone at several scopes, and each period costs time-zone conversions.
    private readonly List<(Window Window, TimeZoneInfo Zone, long Start, DateTimeOffset End)> _periods = [];
    private DateTimeOffset _periodsAt = DateTimeOffset.MinValue;

    /// <inheritdoc />
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <inheritdoc />
    public ValueTask<AdmissionDecision> TryReserveAsync(IReadOnlyList<LimitCheck> checks, long requestedOutput, long minOutput, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        ValueTask.FromResult(TryReserve(checks, requestedOutput, minOutput, now));

    /// <inheritdoc />
    public ValueTask SettleAsync(Reservation reservation, ActualUsage actual, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Settle(Own(reservation), actual, now);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask ReleaseAsync(Reservation reservation, CancellationToken cancellationToken)
    {
        Release(Own(reservation));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<Reservation> HoldAsync(IReadOnlyList<LimitCheck> checks, long outputCap, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken) =>
        ValueTask.FromResult<Reservation>(Hold(checks, outputCap, at));

    /// <inheritdoc />
    public ValueTask ReplayAsync(IReadOnlyList<LimitCheck> checks, ActualUsage actual, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Replay(checks, actual, at);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask<long> RestoreAsync(IAsyncEnumerable<PastUsage> history, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(history);
        long count = 0;
        await foreach (var past in history.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            Replay(past.Checks, past.Usage, past.At);
            count++;
        }

        return count;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LimitStatus>> PeekAsync(IReadOnlyList<LimitCheck> checks, DateTimeOffset now, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<LimitStatus>>(Peek(checks, now));

    /// <inheritdoc />
    public ValueTask<long> UsedAsync(LimitCheck check, DateTimeOffset now, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Used(check, now));

    private AdmissionDecision TryReserve(IReadOnlyList<LimitCheck> checks, long requestedOutput, long minOutput, DateTimeOffset now)
    {
        minOutput = Math.Min(minOutput, requestedOutput);
        // What an admission carries is allocated outside the lock, so that other requests wait only for the counting.
        var lines = new Line[checks.Count];
        var statuses = NewStatuses(checks);
        long output = requestedOutput;
        List<LimitCheck>? shadowRefusals = null;
        int purges;
        lock (_lock)
        {
            now = Monotonic(now);
            MaybePurge(now);
            Resolve(checks, now);
            LimitCheck? refused = null;
            long refusedUsed = 0;
            for (int i = 0; i < checks.Count; i++)
            {
                var check = checks[i];
                if (check.Shadow)
                {
                    continue;
                }

                long used = _resolved[i].Sum(_resolvedSlots[i]);
                long fits = check.MaxOutputWithin(check.Limit - used);
                if (fits < output)
                {
                    output = Math.Max(fits, minOutput - 1);
                    if (fits < minOutput && refused is null)
                    {
                        refused = check;
                        refusedUsed = used;
                    }
                }
            }

            if (refused is not null)
            {
                return Refuse(checks, refused, refusedUsed, minOutput, now);
            }

            for (int i = 0; i < checks.Count; i++)
            {
                var check = checks[i];
                var counter = _resolved[i];
                long slot = _resolvedSlots[i];
                long amount = check.AmountFor(output);
                if (check.Shadow && Pricing.Saturating.Add(counter.Sum(slot), amount) > check.Limit)
                {
                    (shadowRefusals ??= []).Add(check);
                }

                counter.Add(slot, amount);
                lines[i] = new Line(check, amount, slot, counter);
            }

            _outstanding++;
            FillStatuses(checks, now, statuses);
            purges = _purges;
        }

        return AdmissionDecision.Admit(new Held(this, NewId(now), now, output, lines, purges), statuses, shadowRefusals ?? []);
    }

    private Held Hold(IReadOnlyList<LimitCheck> checks, long outputCap, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentOutOfRangeException.ThrowIfNegative(outputCap);
        lock (_lock)
        {
            var lines = new Line[checks.Count];
            for (int i = 0; i < checks.Count; i++)
            {
                var check = checks[i];
                long slot = SlotOf(check, at);
                long amount = check.AmountFor(outputCap);
                var counter = CounterFor(check);
                counter.Add(slot, amount);
                lines[i] = new Line(check, amount, slot, counter);
            }

            _outstanding++;
            return new Held(this, NewId(at), at, outputCap, lines, _purges);
        }
    }

    private void Settle(Held reservation, ActualUsage actual, DateTimeOffset now)
    {
        if (Interlocked.Exchange(ref reservation.Settled, 1) != 0)
        {
            return;
        }

        lock (_lock)
        {
            now = Monotonic(now);
            foreach (var line in reservation.Lines)
            {
                long settled = line.Check.Metric == Metric.Concurrency ? 0 : actual.For(line.Check.Metric);
                CounterOf(reservation, line).Add(line.Slot, settled - line.Amount);
            }

            _outstanding--;
        }
    }

    private void Replay(IReadOnlyList<LimitCheck> checks, ActualUsage actual, DateTimeOffset at)
    {
        lock (_lock)
        {
            foreach (var check in checks)
            {
                if (check.Metric != Metric.Concurrency)
                {
                    CounterFor(check).Add(SlotOf(check, at), actual.For(check.Metric));
                }
            }
        }
    }

    private long Used(LimitCheck check, DateTimeOffset now)
    {
        lock (_lock)
        {
            now = Monotonic(now);
            return _counters.TryGetValue((check.Scope.Id, check.Metric, check.Window), out var counter) ? counter.Sum(SlotOf(check, now)) : 0;
        }
    }

    private LimitStatus[] Peek(IReadOnlyList<LimitCheck> checks, DateTimeOffset now)
    {
        lock (_lock)
        {
            now = Monotonic(now);
            Resolve(checks, now);
            return Statuses(checks, now);
        }
    }

    private void Release(Held reservation)
    {
        if (Interlocked.Exchange(ref reservation.Settled, 1) != 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var line in reservation.Lines)
            {
                CounterOf(reservation, line).Add(line.Slot, -line.Amount);
            }

            _outstanding--;
        }
    }

    // Time never runs backwards inside the store: a wall clock stepped back must not let counted amounts vanish.
    private DateTimeOffset Monotonic(DateTimeOffset now)
    {
        if (now < _lastNow)
        {
            return _lastNow;
        }

        _lastNow = now;
        return now;
    }

    private AdmissionDecision Refuse(IReadOnlyList<LimitCheck> checks, LimitCheck refused, long used, long minOutput, DateTimeOffset now)
    {
        // Of every enforced limit that cannot fit the request, report the one the caller waits longest for (a limit
        // the request alone exceeds waits forever), preferring limits the caller can see: the global scope's
        // figures stay private.
        TimeSpan? Wait(LimitCheck check, int i) =>
            _resolved[i].TimeUntilFits(check.AmountFor(minOutput), check.Limit, _resolvedSlots[i], check.Scope, now);
        var best = refused;
        long bestUsed = used;
        TimeSpan? bestWait = null;
        for (int i = 0; i < checks.Count; i++)
        {
            if (ReferenceEquals(checks[i], refused))
            {
                bestWait = Wait(refused, i);
                break;
            }
        }

        for (int i = 0; i < checks.Count; i++)
        {
            var check = checks[i];
            if (check.Shadow || ReferenceEquals(check, refused))
            {
                continue;
            }

            long u = _resolved[i].Sum(_resolvedSlots[i]);
            if (check.MaxOutputWithin(check.Limit - u) >= minOutput)
            {
                continue;
            }

            var wait = Wait(check, i);
            bool visibleFirst = check.Scope.IsVisibleToCaller && !best.Scope.IsVisibleToCaller;
            bool longer = check.Scope.IsVisibleToCaller == best.Scope.IsVisibleToCaller && (bestWait is not null && (wait is null || wait > bestWait));
            if (visibleFirst || longer)
            {
                best = check;
                bestUsed = u;
                bestWait = wait;
            }
        }

        return AdmissionDecision.Refuse(best, bestUsed, best.AmountFor(minOutput), minOutput, bestWait, now, Statuses(checks, now));
    }

    // The statuses of the checks last resolved (Resolve), as they stand now.
    private LimitStatus[] Statuses(IReadOnlyList<LimitCheck> checks, DateTimeOffset now)
    {
        var statuses = NewStatuses(checks);
        FillStatuses(checks, now, statuses);
        return statuses;
    }

    // Room for the statuses of checks: one per enforced limit the caller may see.
    private static LimitStatus[] NewStatuses(IReadOnlyList<LimitCheck> checks)
    {
        int visible = 0;
        for (int i = 0; i < checks.Count; i++)
        {
            visible += IsReported(checks[i]) ? 1 : 0;
        }

        return visible == 0 ? [] : new LimitStatus[visible];
    }

    // Fills statuses (NewStatuses(checks)) with the checks last resolved (Resolve), as they stand now.
    private void FillStatuses(IReadOnlyList<LimitCheck> checks, DateTimeOffset now, LimitStatus[] statuses)
    {
        int next = 0;
        for (int i = 0; i < checks.Count; i++)
        {
            var check = checks[i];
            if (IsReported(check))
            {
                var counter = _resolved[i];
                long slot = _resolvedSlots[i];
                var resetsIn = check.Window is Window.CalendarDay or Window.CalendarMonth
                    ? Period(check.Window, check.Scope.TimeZone, now).End - now
                    : counter.ResetsIn(slot, check.Scope, now);
                statuses[next++] = new LimitStatus(check, Math.Max(0, check.Limit - counter.Sum(slot)), resetsIn, now + resetsIn);
            }
        }
    }

    private static bool IsReported(LimitCheck check) => !check.Shadow && check.Scope.IsVisibleToCaller;

    // Looks up each check's counter and its slot at now, once, into _resolved and _resolvedSlots.
    private void Resolve(IReadOnlyList<LimitCheck> checks, DateTimeOffset now)
    {
        if (_resolved.Length < checks.Count)
        {
            _resolved = new Counter[checks.Count * 2];
            _resolvedSlots = new long[checks.Count * 2];
        }

        for (int i = 0; i < checks.Count; i++)
        {
            var check = checks[i];
            _resolved[i] = CounterFor(check);
            _resolvedSlots[i] = check.Window is Window.CalendarDay or Window.CalendarMonth
                ? Period(check.Window, check.Scope.TimeZone, now).Start
                : WindowClock.SlotOf(check.Window, check.Scope.TimeZone, now);
        }
    }

    // The calendar period (its start in unix seconds, and its end) holding now, computed once per window, zone and instant.
    private (long Start, DateTimeOffset End) Period(Window window, TimeZoneInfo zone, DateTimeOffset now)
    {
        if (now != _periodsAt)
        {
            _periods.Clear();
            _periodsAt = now;
        }

        foreach (var period in _periods)
        {
            if (period.Window == window && ReferenceEquals(period.Zone, zone))
            {
                return (period.Start, period.End);
            }
        }

        long start = WindowClock.PeriodStart(window, zone, now).ToUnixTimeSeconds();
        var end = WindowClock.PeriodEnd(window, zone, now);
        _periods.Add((window, zone, start, end));
        return (start, end);
    }

    private Counter CounterFor(LimitCheck check)
    {
        var key = (check.Scope.Id, check.Metric, check.Window);
        if (!_counters.TryGetValue(key, out var counter))
        {
            counter = new Counter(check.Window);
            _counters.Add(key, counter);
        }

        return counter;
    }

    // A line's counter: the one it was counted in, unless a purge since may have dropped it (it held nothing then).
    private Counter CounterOf(Held reservation, Line line) => reservation.Purges == _purges ? line.Counter : CounterFor(line.Check);

    private static long SlotOf(LimitCheck check, DateTimeOffset at) => WindowClock.SlotOf(check.Window, check.Scope.TimeZone, at);

    private void MaybePurge(DateTimeOffset now)
    {
        if (++_operations % PurgeEvery != 0)
        {
            return;
        }

        // Drop counters that hold nothing: sliding windows with every slot expired, idle gauges, and calendar periods
        // that ended long ago (a month is at most 31 days), so scopes that come and go (tasks, addresses) do not pile up.
        long staleBefore = (now - TimeSpan.FromDays(32)).ToUnixTimeSeconds();
        var idle = new List<(string, Metric, Window)>();
        foreach (var (key, counter) in _counters)
        {
            bool drop = counter.Window switch
            {
                Window.Concurrent => counter.IsIdle(0),
                Window.CalendarDay or Window.CalendarMonth => counter.LastPeriodStart < staleBefore,
                _ => counter.IsIdle(WindowClock.SlotOf(counter.Window, TimeZoneInfo.Utc, now)),
            };
            if (drop)
            {
                idle.Add(key);
            }
        }

        foreach (var key in idle)
        {
            _counters.Remove(key);
        }

        if (idle.Count > 0)
        {
            _purges++;
        }
    }

    /// <summary>
    /// A lease id that sorts by time: the ledger's <c>settled_leases</c> index then grows at its end, a page or two per
    /// batch, instead of taking a random page of it for every lease settled.
    /// </summary>
    private static string NewId(DateTimeOffset at) => BufferedRandom.TimeOrderedHexId("res_", at, 8);

    private Held Own(Reservation reservation)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        return reservation is Held held && ReferenceEquals(held.Store, this)
            ? held
            : throw new ArgumentException($"The reservation {reservation.Id} was not made by this store.", nameof(reservation));
    }

    /// <summary>This store's reservation: the amount held per limit, in the slot it was counted in.</summary>
    private sealed class Held(InMemoryQuotaStore store, string id, DateTimeOffset at, long outputCap, Line[] lines, int purges) : Reservation(id, at, outputCap)
    {
        public InMemoryQuotaStore Store { get; } = store;

        public Line[] Lines { get; } = lines;

        /// <summary>The store's purge count when the lines' counters were looked up.</summary>
        public int Purges { get; } = purges;

        // 1 once settled or released: either happens once.
        public int Settled;
    }

    /// <summary>One limit's share of a reservation.</summary>
    /// <param name="Check">The limit.</param>
    /// <param name="Amount">The amount held.</param>
    /// <param name="Slot">The sliding slot number or calendar period start (unix seconds) it was counted in.</param>
    /// <param name="Counter">The counter it was counted in.</param>
    private readonly record struct Line(LimitCheck Check, long Amount, long Slot, Counter Counter);
}
