using Tollgate.Limits;

namespace Tollgate.Stores.Contracts;

/// <summary>
/// What every <see cref="IQuotaStore"/> must do: atomic all-or-nothing admission, exact sliding and calendar windows,
/// settlement, clamping and shadow limits. A Redis or PostgreSQL backend derives a class from this one.
/// </summary>
public abstract partial class QuotaStoreContractTests
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 23, 10, 0, 0, 500, TimeSpan.Zero);

    protected static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static CancellationToken None => CancellationToken.None;

    /// <summary>A fresh, empty store.</summary>
    protected abstract IQuotaStore CreateStore();

    protected static Scope ScopeOf(string id, ScopeKind kind = ScopeKind.Tenant, TimeZoneInfo? zone = null) => new(kind, id, kind.ToString().ToLowerInvariant() + " " + id, zone ?? TimeZoneInfo.Utc);

    [Fact]
    public async Task TryReserve_SlidingMinute_RefusesOverLimitAndReturnsWhenOldestSlotLeaves()
    {
        var store = CreateStore();
        var check = new LimitCheck(ScopeOf("acme"), Metric.Requests, Window.Minute, 3, 1, 0);
        Assert.True((await store.TryReserveAsync([check], 0, 0, T0, None)).Admitted);
        Assert.True((await store.TryReserveAsync([check], 0, 0, T0.AddSeconds(10), None)).Admitted);
        Assert.True((await store.TryReserveAsync([check], 0, 0, T0.AddSeconds(20), None)).Admitted);

        var refused = await store.TryReserveAsync([check], 0, 0, T0.AddSeconds(30), None);

        Assert.False(refused.Admitted);
        Assert.Equal((3L, 1L, 0L), (refused.Used, refused.Requested, refused.Remaining));
        // T0 lies in the slot [10:00:00, 10:00:01); counted for a full minute after that slot ends, it leaves at
        // 10:01:01, 30.5 s after 10:00:30.5. Never earlier than a true sliding minute would let it go.
        Assert.Equal(TimeSpan.FromSeconds(30.5), refused.RetryAfter);
        Assert.False((await store.TryReserveAsync([check], 0, 0, T0.AddSeconds(60), None)).Admitted);
        Assert.True((await store.TryReserveAsync([check], 0, 0, T0.AddSeconds(60.5), None)).Admitted);
    }

    [Fact]
    public async Task TryReserve_RefusedRequest_ConsumesNothingAnywhere()
    {
        var store = CreateStore();
        var roomy = new LimitCheck(ScopeOf("acme"), Metric.Tokens, Window.Minute, 1000, 100, 0);
        var tight = new LimitCheck(ScopeOf("alice", ScopeKind.User), Metric.Tokens, Window.Minute, 150, 100, 0);
        Assert.True((await store.TryReserveAsync([roomy, tight], 0, 0, T0, None)).Admitted);

        var refused = await store.TryReserveAsync([roomy, tight], 0, 0, T0, None);

        Assert.False(refused.Admitted);
        Assert.Same(tight, refused.RefusedBy);
        Assert.Equal(100, await store.UsedAsync(roomy, T0, None));
        Assert.Equal(100, await store.UsedAsync(tight, T0, None));
    }

    [Fact]
    public async Task Settle_ReplacesReservationWithActualAndReleasesConcurrency_Once()
    {
        var store = CreateStore();
        var tokens = new LimitCheck(ScopeOf("acme"), Metric.Tokens, Window.Hour, 10_000, 50, 10);
        var concurrent = new LimitCheck(ScopeOf("acme"), Metric.Concurrency, Window.Concurrent, 1, 1, 0);
        var decision = await store.TryReserveAsync([tokens, concurrent], 100, 100, T0, None);
        Assert.Equal(50 + 10 * 100, await store.UsedAsync(tokens, T0, None));
        Assert.False((await store.TryReserveAsync([concurrent], 0, 0, T0, None)).Admitted);

        await store.SettleAsync(decision.Reservation!, new ActualUsage(50, 30, 0), T0.AddSeconds(5), None);
        await store.SettleAsync(decision.Reservation!, new ActualUsage(50, 30, 0), T0.AddSeconds(5), None);

        Assert.Equal(80, await store.UsedAsync(tokens, T0.AddSeconds(5), None));
        Assert.Equal(0, await store.UsedAsync(concurrent, T0.AddSeconds(5), None));
        Assert.Equal(0, store.Outstanding);
        Assert.True((await store.TryReserveAsync([concurrent], 0, 0, T0.AddSeconds(5), None)).Admitted);
    }

    [Fact]
    public async Task TryReserve_CalendarDayInTimeZone_ResetsAtLocalMidnight()
    {
        var store = CreateStore();
        // 1 dollar a day in Berlin; each request costs 0.6 dollars (600,000,000 nanos = 6e11 picos fixed).
        var budget = new LimitCheck(ScopeOf("acme", zone: Berlin), Metric.Spend, Window.CalendarDay, 1_000_000_000, 600_000_000_000, 0);
        var evening = new DateTimeOffset(2026, 11, 23, 22, 30, 0, TimeSpan.Zero); // 23:30 in Berlin
        Assert.True((await store.TryReserveAsync([budget], 0, 0, evening, None)).Admitted);

        var refused = await store.TryReserveAsync([budget], 0, 0, evening, None);

        Assert.False(refused.Admitted);
        Assert.Equal(TimeSpan.FromMinutes(30), refused.RetryAfter);
        Assert.True((await store.TryReserveAsync([budget], 0, 0, evening.AddMinutes(30), None)).Admitted);
    }

    [Fact]
    public async Task TryReserve_CalendarMonth_ResetsOnTheFirst()
    {
        var store = CreateStore();
        var budget = new LimitCheck(ScopeOf("acme"), Metric.Spend, Window.CalendarMonth, 1_000, 1_000_000, 0);
        var lastDay = new DateTimeOffset(2026, 11, 30, 23, 0, 0, TimeSpan.Zero);
        Assert.True((await store.TryReserveAsync([budget], 0, 0, lastDay, None)).Admitted);
        Assert.Equal(TimeSpan.FromHours(1), (await store.TryReserveAsync([budget], 0, 0, lastDay, None)).RetryAfter);
        Assert.True((await store.TryReserveAsync([budget], 0, 0, lastDay.AddHours(1), None)).Admitted);
    }

    [Fact]
    public async Task TryReserve_MinOutputBelowRequested_ClampsToWhatEveryLimitAffords()
    {
        var store = CreateStore();
        // Budget 1000 nanos; fixed 200,000 picos (200 nanos); 3,000 picos (3 nanos) per output token → 266 tokens fit.
        var budget = new LimitCheck(ScopeOf("acme"), Metric.Spend, Window.CalendarDay, 1_000, 200_000, 3_000);
        var tokens = new LimitCheck(ScopeOf("acme"), Metric.Tokens, Window.Minute, 1_000, 800, 1);

        var decision = await store.TryReserveAsync([budget, tokens], 4_096, 1, T0, None);

        Assert.True(decision.Admitted);
        Assert.Equal(200, decision.OutputCap);
        Assert.Equal(1_000, await store.UsedAsync(tokens, T0, None));
        Assert.Equal(800, await store.UsedAsync(budget, T0, None));
    }

    [Fact]
    public async Task TryReserve_RequestLargerThanLimit_RefusedWithNoRetryTime()
    {
        var store = CreateStore();
        var check = new LimitCheck(ScopeOf("acme"), Metric.Tokens, Window.Minute, 100, 500, 0);

        var refused = await store.TryReserveAsync([check], 0, 0, T0, None);

        Assert.False(refused.Admitted);
        Assert.Null(refused.RetryAfter);
    }

    [Fact]
    public async Task TryReserve_ShadowLimit_CountsAndReportsButNeverRefuses()
    {
        var store = CreateStore();
        var shadow = new LimitCheck(ScopeOf("acme"), Metric.Requests, Window.Minute, 1, 1, 0, Shadow: true);
        Assert.Empty((await store.TryReserveAsync([shadow], 0, 0, T0, None)).ShadowRefusals);

        var second = await store.TryReserveAsync([shadow], 0, 0, T0, None);

        Assert.True(second.Admitted);
        Assert.Same(shadow, Assert.Single(second.ShadowRefusals));
        Assert.Equal(2, await store.UsedAsync(shadow, T0, None));
    }

    [Fact]
    public async Task TryReserve_GlobalAndVisibleBothFull_NamesTheVisibleScope()
    {
        var store = CreateStore();
        var global = new LimitCheck(new Scope(ScopeKind.Global, "g", "gateway", TimeZoneInfo.Utc), Metric.Requests, Window.Minute, 1, 1, 0);
        var tenant = new LimitCheck(ScopeOf("acme"), Metric.Requests, Window.Minute, 1, 1, 0);
        Assert.True((await store.TryReserveAsync([global, tenant], 0, 0, T0, None)).Admitted);

        Assert.Same(tenant, (await store.TryReserveAsync([global, tenant], 0, 0, T0, None)).RefusedBy);
    }

    [Fact]
    public async Task TryReserve_Refused_ReportsWhenCapacityReturnsAndTheCallersLimits()
    {
        var store = CreateStore();
        var global = new LimitCheck(new Scope(ScopeKind.Global, "g", "gateway", TimeZoneInfo.Utc), Metric.Requests, Window.Minute, 100, 1, 0);
        var perDay = new LimitCheck(ScopeOf("alice", ScopeKind.Key), Metric.Requests, Window.Day, 1, 1, 0);
        var budget = new LimitCheck(ScopeOf("acme"), Metric.Spend, Window.CalendarDay, 1_000, 100_000, 0);
        Assert.True((await store.TryReserveAsync([global, perDay, budget], 0, 0, T0, None)).Admitted);

        var refused = await store.TryReserveAsync([global, perDay, budget], 0, 0, T0.AddHours(1), None);

        Assert.Same(perDay, refused.RefusedBy);
        // T0 lies in the 24-minute slot [10:00, 10:24); counted for a full day after that slot ends, the first request
        // leaves at 10:24 the next day: far beyond a minute, so the caller is not asked to retry.
        var back = new DateTimeOffset(2026, 11, 24, 10, 24, 0, TimeSpan.Zero);
        Assert.Equal(back, refused.ResetsAt);
        Assert.Equal(back - T0.AddHours(1), refused.RetryAfter);
        Assert.Null(refused.SuggestedRetryAfter);
        Assert.Equal([perDay, budget], refused.Statuses.Select(s => s.Check));
        Assert.Equal((0L, back), (refused.Statuses[0].Remaining, refused.Statuses[0].ResetsAt));
        Assert.Equal((900L, new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)), (refused.Statuses[1].Remaining, refused.Statuses[1].ResetsAt));
        Assert.Equal((1L, 100L), (await store.UsedAsync(perDay, T0.AddHours(1), None), await store.UsedAsync(budget, T0.AddHours(1), None)));
    }

    [Fact]
    public async Task TryReserve_RequestLargerThanLimit_NeverResets()
    {
        var store = CreateStore();
        var check = new LimitCheck(ScopeOf("acme"), Metric.Tokens, Window.Minute, 100, 500, 0);

        var refused = await store.TryReserveAsync([check], 0, 0, T0, None);

        Assert.Null(refused.ResetsAt);
        Assert.Null(refused.SuggestedRetryAfter);
        Assert.Equal(100, Assert.Single(refused.Statuses).Remaining);
    }

    [Fact]
    public async Task Peek_ReportsTheCallersLimitsAndReservesNothing()
    {
        var store = CreateStore();
        var global = new LimitCheck(new Scope(ScopeKind.Global, "g", "gateway", TimeZoneInfo.Utc), Metric.Requests, Window.Minute, 100, 1, 0);
        var perMinute = new LimitCheck(ScopeOf("acme"), Metric.Requests, Window.Minute, 5, 1, 0);
        var concurrent = new LimitCheck(ScopeOf("acme"), Metric.Concurrency, Window.Concurrent, 2, 1, 0);
        Assert.True((await store.TryReserveAsync([global, perMinute, concurrent], 0, 0, T0, None)).Admitted);

        var statuses = await store.PeekAsync([global, perMinute, concurrent], T0.AddSeconds(10), None);

        Assert.Equal([perMinute, concurrent], statuses.Select(s => s.Check));
        Assert.Equal((4L, TimeSpan.FromSeconds(50.5)), (statuses[0].Remaining, statuses[0].ResetsIn));
        Assert.Equal(T0.AddSeconds(60.5), statuses[0].ResetsAt);
        Assert.Equal(1L, statuses[1].Remaining);
        var later = T0.AddSeconds(10);
        Assert.Equal((1L, 1L, 1L), (await store.UsedAsync(global, later, None), await store.UsedAsync(perMinute, later, None), await store.UsedAsync(concurrent, later, None)));
    }

    [Fact]
    public async Task Hold_PastEveryLimit_CountsAndHoldsConcurrencyUntilSettledOnce()
    {
        var store = CreateStore();
        var tokens = new LimitCheck(ScopeOf("acme"), Metric.Tokens, Window.Hour, 1_000, 50, 10);
        var concurrent = new LimitCheck(ScopeOf("acme"), Metric.Concurrency, Window.Concurrent, 1, 1, 0);
        await store.ReplayAsync([tokens], new ActualUsage(900, 0, 0), T0, T0, None);

        var held = await store.HoldAsync([tokens, concurrent], 100, T0.AddSeconds(-30), T0, None);

        Assert.Equal(100, held.OutputCap);
        Assert.Equal(900 + 50 + 10 * 100, await store.UsedAsync(tokens, T0, None));
        Assert.False((await store.TryReserveAsync([concurrent], 0, 0, T0, None)).Admitted);
        Assert.Equal(1, store.Outstanding);

        await store.SettleAsync(held, new ActualUsage(50, 20, 0), T0.AddSeconds(1), None);
        await store.SettleAsync(held, new ActualUsage(50, 20, 0), T0.AddSeconds(1), None);

        Assert.Equal(900 + 70, await store.UsedAsync(tokens, T0.AddSeconds(1), None));
        Assert.Equal(0, await store.UsedAsync(concurrent, T0.AddSeconds(1), None));
        Assert.Equal(0, store.Outstanding);
    }

    [Fact]
    public async Task Replay_CountsPastConsumptionInItsOwnSlot()
    {
        var store = CreateStore();
        var check = new LimitCheck(ScopeOf("acme"), Metric.Tokens, Window.Hour, 1_000, 0, 0);
        await store.ReplayAsync([check], new ActualUsage(300, 200, 0), T0.AddMinutes(-59.5), T0, None);
        await store.ReplayAsync([check], new ActualUsage(100, 0, 0), T0.AddHours(-2), T0, None);

        Assert.Equal(500, await store.UsedAsync(check, T0, None));
        Assert.Equal(0, await store.UsedAsync(check, T0.AddMinutes(1), None));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task TryReserve_RacingThreads_AdmitExactlyWhatTheBudgetCovers(int seed)
    {
        var store = CreateStore();
        // A budget that covers exactly 10 worst cases of 7 nanos each, raced by 200 reservations on many threads.
        var budget = new LimitCheck(ScopeOf("acme"), Metric.Spend, Window.CalendarDay, 70, 7_000, 0);
        var concurrent = new LimitCheck(ScopeOf("acme"), Metric.Concurrency, Window.Concurrent, 1_000, 1, 0);
        var random = new Random(seed);
        var delays = Enumerable.Range(0, 200).Select(_ => random.Next(0, 50)).ToArray();
        using var start = new ManualResetEventSlim();
        var tasks = delays.Select(spin => Task.Run(async () =>
        {
            start.Wait();
            Thread.SpinWait(spin);
            return await store.TryReserveAsync([budget, concurrent], 0, 0, T0, None);
        })).ToArray();

        start.Set();
        var decisions = await Task.WhenAll(tasks);

        Assert.Equal(10, decisions.Count(d => d.Admitted));
        Assert.Equal(70, await store.UsedAsync(budget, T0, None));
        foreach (var admitted in decisions.Where(d => d.Admitted))
        {
            await store.SettleAsync(admitted.Reservation!, new ActualUsage(0, 0, 5), T0, None);
        }

        Assert.Equal(50, await store.UsedAsync(budget, T0, None));
        Assert.Equal(0, await store.UsedAsync(concurrent, T0, None));
        Assert.Equal(0, store.Outstanding);
    }
}
