using Tollgate.Limits;

namespace Tollgate.Core.Tests.Limits;

/// <summary>Edge cases found in review: a clock stepping back, the longest wait reported, release, DST at midnight.</summary>
public sealed class QuotaStoreEdgeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static Scope Tenant(TimeZoneInfo? zone = null) => new(ScopeKind.Tenant, "t:acme", "tenant acme", zone ?? TimeZoneInfo.Utc);

    [Fact]
    public void TryReserve_ClockStepsBack_CountsDoNotVanish()
    {
        var store = new InMemoryQuotaStore();
        var check = new LimitCheck(Tenant(), Metric.Requests, Window.Minute, 1, 1, 0);
        Assert.True(store.TryReserve([check], 0, 0, T0).Admitted);

        for (int i = 0; i < 5; i++)
        {
            Assert.False(store.TryReserve([check], 0, 0, T0.AddSeconds(-61 - i)).Admitted);
        }
    }

    [Fact]
    public void TryReserve_SeveralLimitsRefuse_ReportsTheLongestWait()
    {
        var store = new InMemoryQuotaStore();
        var perMinute = new LimitCheck(Tenant(), Metric.Tokens, Window.Minute, 100, 100, 0);
        var perDay = new LimitCheck(Tenant(), Metric.Spend, Window.CalendarDay, 1, 1000, 0);
        Assert.True(store.TryReserve([perMinute, perDay], 0, 0, T0).Admitted);

        var refused = store.TryReserve([perMinute, perDay], 0, 0, T0.AddSeconds(1));

        Assert.Same(perDay, refused.RefusedBy);
        Assert.Equal(TimeSpan.FromHours(14) - TimeSpan.FromSeconds(1), refused.RetryAfter);
    }

    [Fact]
    public void Release_UndoesEverythingIncludingTheRequestCount()
    {
        var store = new InMemoryQuotaStore();
        var requests = new LimitCheck(Tenant(), Metric.Requests, Window.Minute, 1, 1, 0);
        var decision = store.TryReserve([requests], 0, 0, T0);

        store.Release(decision.Reservation!);
        store.Settle(decision.Reservation!, new ActualUsage(0, 0, 0), T0);

        Assert.Equal(0, store.Used(requests, T0));
        Assert.Equal(0, store.Outstanding);
    }

    [Fact]
    public void CalendarDay_ZoneWhoseClocksFallBackAtMidnight_DayStartsAtTheFirstMidnight()
    {
        // Atlantic/Azores left summer time at 01:00 UTC on 2024-10-27: local midnight happened twice.
        var azores = TimeZoneInfo.FindSystemTimeZoneById("Atlantic/Azores");
        var store = new InMemoryQuotaStore();
        var budget = new LimitCheck(Tenant(azores), Metric.Spend, Window.CalendarDay, 1, 1000, 0);
        var evening = new DateTimeOffset(2024, 10, 26, 23, 30, 0, TimeSpan.Zero); // 23:30 local (UTC+0 in summer)
        Assert.True(store.TryReserve([budget], 0, 0, evening).Admitted);

        var refused = store.TryReserve([budget], 0, 0, evening);

        Assert.Equal(TimeSpan.FromMinutes(30), refused.RetryAfter);
        Assert.True(store.TryReserve([budget], 0, 0, evening.AddMinutes(30)).Admitted);
    }
}
