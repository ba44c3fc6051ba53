using System.Security.Cryptography;

namespace Tollgate.Limits;

/// <summary>
/// An <see cref="IQuotaStore"/> in process memory. Admission is atomic by construction: one lock covers checking and
/// reserving every limit of a request, so no interleaving of concurrent requests can overshoot a limit. The lock is
/// held for a few microseconds (no I/O inside).
/// </summary>
public sealed class InMemoryQuotaStore : IQuotaStore
{
    private const int PurgeEvery = 8192;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Scope, Metric Metric, Window Window), Counter> _counters = [];
    private int _outstanding;
    private int _operations;
    private DateTimeOffset _lastNow = DateTimeOffset.MinValue;

    /// <inheritdoc />
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <inheritdoc />
    public AdmissionDecision TryReserve(IReadOnlyList<LimitCheck> checks, long requestedOutput, long minOutput, DateTimeOffset now)
    {
        minOutput = Math.Min(minOutput, requestedOutput);
        lock (_lock)
        {
            now = Monotonic(now);
            MaybePurge(now);
            long output = requestedOutput;
            LimitCheck? refused = null;
            long refusedUsed = 0;
            foreach (var check in checks)
            {
                if (check.Shadow)
                {
                    continue;
                }

                long used = CounterFor(check).Sum(SlotOf(check, now));
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

            var shadowRefusals = new List<LimitCheck>();
            var lines = new ReservedLine[checks.Count];
            for (int i = 0; i < checks.Count; i++)
            {
                var check = checks[i];
                var counter = CounterFor(check);
                long slot = SlotOf(check, now);
                long amount = check.AmountFor(output);
                if (check.Shadow && Pricing.Saturating.Add(counter.Sum(slot), amount) > check.Limit)
                {
                    shadowRefusals.Add(check);
                }

                counter.Add(slot, amount);
                lines[i] = new ReservedLine(check, amount, slot);
            }

            _outstanding++;
            return new AdmissionDecision
            {
                Admitted = true,
                OutputCap = output,
                Reservation = new Reservation(NewId(), now, output, lines),
                ShadowRefusals = shadowRefusals,
                Statuses = Statuses(checks, now),
            };
        }
    }

    /// <inheritdoc />
    public void Settle(Reservation reservation, ActualUsage actual, DateTimeOffset now)
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
                CounterFor(line.Check).Add(line.Slot, settled - line.Amount);
            }

            _outstanding--;
        }
    }

    /// <inheritdoc />
    public void Replay(IReadOnlyList<LimitCheck> checks, ActualUsage actual, DateTimeOffset at, DateTimeOffset now)
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

    /// <inheritdoc />
    public long Used(LimitCheck check, DateTimeOffset now)
    {
        lock (_lock)
        {
            now = Monotonic(now);
            return _counters.TryGetValue((check.Scope.Id, check.Metric, check.Window), out var counter) ? counter.Sum(SlotOf(check, now)) : 0;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<LimitStatus> Peek(IReadOnlyList<LimitCheck> checks, DateTimeOffset now)
    {
        lock (_lock)
        {
            return Statuses(checks, Monotonic(now));
        }
    }

    /// <inheritdoc />
    public void Release(Reservation reservation)
    {
        if (Interlocked.Exchange(ref reservation.Settled, 1) != 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var line in reservation.Lines)
            {
                CounterFor(line.Check).Add(line.Slot, -line.Amount);
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
        TimeSpan? Wait(LimitCheck check) =>
            CounterFor(check).TimeUntilFits(check.AmountFor(minOutput), check.Limit, SlotOf(check, now), check.Scope, now);
        var best = refused;
        long bestUsed = used;
        var bestWait = Wait(refused);
        foreach (var check in checks)
        {
            if (check.Shadow || ReferenceEquals(check, refused))
            {
                continue;
            }

            long u = CounterFor(check).Sum(SlotOf(check, now));
            if (check.MaxOutputWithin(check.Limit - u) >= minOutput)
            {
                continue;
            }

            var wait = Wait(check);
            bool visibleFirst = check.Scope.IsVisibleToCaller && !best.Scope.IsVisibleToCaller;
            bool longer = check.Scope.IsVisibleToCaller == best.Scope.IsVisibleToCaller && (bestWait is not null && (wait is null || wait > bestWait));
            if (visibleFirst || longer)
            {
                best = check;
                bestUsed = u;
                bestWait = wait;
            }
        }

        return new AdmissionDecision
        {
            Admitted = false,
            RefusedBy = best,
            Used = bestUsed,
            Requested = best.AmountFor(minOutput),
            OutputCap = minOutput,
            RetryAfter = bestWait,
            ResetsAt = now + bestWait,
            Statuses = Statuses(checks, now),
        };
    }

    private List<LimitStatus> Statuses(IReadOnlyList<LimitCheck> checks, DateTimeOffset now)
    {
        var statuses = new List<LimitStatus>(checks.Count);
        foreach (var check in checks)
        {
            if (!check.Shadow && check.Scope.IsVisibleToCaller)
            {
                var counter = CounterFor(check);
                long slot = SlotOf(check, now);
                var resetsIn = counter.ResetsIn(slot, check.Scope, now);
                statuses.Add(new LimitStatus(check, Math.Max(0, check.Limit - counter.Sum(slot)), resetsIn, now + resetsIn));
            }
        }

        return statuses;
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
    }

    private static string NewId() => "res_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}
