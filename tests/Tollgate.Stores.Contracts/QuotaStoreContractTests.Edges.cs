using Tollgate.Limits;

namespace Tollgate.Stores.Contracts;

/// <summary>Edge cases found in review: a clock stepping back, the longest wait reported, release, DST at midnight, handles from elsewhere.</summary>
public abstract partial class QuotaStoreContractTests
{
    private static readonly DateTimeOffset _onTheHour = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task TryReserve_ClockStepsBack_CountsDoNotVanish()
    {
        var store = CreateStore();
        var check = new LimitCheck(ScopeOf("acme"), Metric.Requests, Window.Minute, 1, 1, 0);
        Assert.True((await store.TryReserveAsync([check], 0, 0, _onTheHour, None)).Admitted);

        for (int i = 0; i < 5; i++)
        {
            Assert.False((await store.TryReserveAsync([check], 0, 0, _onTheHour.AddSeconds(-61 - i), None)).Admitted);
        }
    }

    [Fact]
    public async Task TryReserve_SeveralLimitsRefuse_ReportsTheLongestWait()
    {
        var store = CreateStore();
        var perMinute = new LimitCheck(ScopeOf("acme"), Metric.Tokens, Window.Minute, 100, 100, 0);
        var perDay = new LimitCheck(ScopeOf("acme"), Metric.Spend, Window.CalendarDay, 1, 1000, 0);
        Assert.True((await store.TryReserveAsync([perMinute, perDay], 0, 0, _onTheHour, None)).Admitted);

        var refused = await store.TryReserveAsync([perMinute, perDay], 0, 0, _onTheHour.AddSeconds(1), None);

        Assert.Same(perDay, refused.RefusedBy);
        Assert.Equal(TimeSpan.FromHours(14) - TimeSpan.FromSeconds(1), refused.RetryAfter);
    }

    [Fact]
    public async Task Release_UndoesEverythingIncludingTheRequestCount()
    {
        var store = CreateStore();
        var requests = new LimitCheck(ScopeOf("acme"), Metric.Requests, Window.Minute, 1, 1, 0);
        var decision = await store.TryReserveAsync([requests], 0, 0, _onTheHour, None);

        await store.ReleaseAsync(decision.Reservation!, None);
        await store.SettleAsync(decision.Reservation!, new ActualUsage(0, 0, 0), _onTheHour, None);

        Assert.Equal(0, await store.UsedAsync(requests, _onTheHour, None));
        Assert.Equal(0, store.Outstanding);
    }

    [Fact]
    public async Task CalendarDay_ZoneWhoseClocksFallBackAtMidnight_DayStartsAtTheFirstMidnight()
    {
        // Atlantic/Azores left summer time at 01:00 UTC on 2024-10-27: local midnight happened twice.
        var azores = TimeZoneInfo.FindSystemTimeZoneById("Atlantic/Azores");
        var store = CreateStore();
        var budget = new LimitCheck(ScopeOf("acme", zone: azores), Metric.Spend, Window.CalendarDay, 1, 1000, 0);
        var evening = new DateTimeOffset(2024, 10, 26, 23, 30, 0, TimeSpan.Zero); // 23:30 local (UTC+0 in summer)
        Assert.True((await store.TryReserveAsync([budget], 0, 0, evening, None)).Admitted);

        var refused = await store.TryReserveAsync([budget], 0, 0, evening, None);

        Assert.Equal(TimeSpan.FromMinutes(30), refused.RetryAfter);
        Assert.True((await store.TryReserveAsync([budget], 0, 0, evening.AddMinutes(30), None)).Admitted);
    }

    [Fact]
    public async Task Settle_ReservationTheStoreDidNotMake_ThrowsAndChangesNothing()
    {
        var store = CreateStore();
        var requests = new LimitCheck(ScopeOf("acme"), Metric.Requests, Window.Minute, 5, 1, 0);
        Assert.True((await store.TryReserveAsync([requests], 0, 0, _onTheHour, None)).Admitted);
        var stranger = new Reservation("res_elsewhere", _onTheHour, 0);

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.SettleAsync(stranger, new ActualUsage(0, 0, 0), _onTheHour, None));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.ReleaseAsync(stranger, None));

        Assert.Equal(1, await store.UsedAsync(requests, _onTheHour, None));
        Assert.Equal(1, store.Outstanding);
    }
}
