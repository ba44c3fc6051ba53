using Tollgate.Limits;
using Tollgate.Pricing;

namespace Tollgate.Core.Tests.Pricing;

public sealed class SaturatingTests
{
    [Theory]
    [InlineData(1, 2, 3)]
    [InlineData(long.MaxValue, 1, long.MaxValue)]
    [InlineData(long.MaxValue, long.MaxValue, long.MaxValue)]
    [InlineData(long.MinValue, -1, long.MinValue)]
    [InlineData(long.MaxValue, long.MinValue, -1)]
    [InlineData(9_000_000_000_000_000_000, -9_000_000_000_000_000_000, 0)]
    public void Add_HoldsAtTheBounds(long a, long b, long expected) => Assert.Equal(expected, Saturating.Add(a, b));

    [Fact]
    public void Multiply_And_Sum_HoldAtTheBounds()
    {
        Assert.Equal(long.MaxValue, Saturating.Multiply(long.MaxValue / 2, 3));
        Assert.Equal(long.MinValue, Saturating.Multiply(long.MaxValue, -2));
        Assert.Equal(long.MaxValue, Saturating.Sum(new[] { 9e18, 9e18, 9e18 }, v => (long)v));
        Assert.Equal(long.MaxValue, new TokenUsage(long.MaxValue, 0, long.MaxValue, 0).TotalTokens);
    }

    [Fact]
    public void UsageBounds_Clamp_LowersOnlyWhatIsAboveTheBound()
    {
        var bounds = new UsageBounds(1_000, 200);

        var within = bounds.Clamp(new TokenUsage(900, 100, 150, 50), out bool lowered);
        var above = bounds.Clamp(new TokenUsage(long.MaxValue, long.MaxValue, 9_000_000_000_000_000_000, 9_000_000_000_000_000_000), out bool clamped);

        Assert.False(lowered);
        Assert.Equal(new TokenUsage(900, 100, 150, 50), within);
        Assert.True(clamped);
        Assert.Equal(new TokenUsage(1_000, 1_000, 200, 200), above);
    }

    [Fact]
    public async Task QuotaStore_ThreeAbsurdSettlements_SaturateAndKeepRefusing()
    {
        var now = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
        var store = new InMemoryQuotaStore();
        var scope = new Scope(ScopeKind.Key, "k:1", "key 1", TimeZoneInfo.Utc);
        var budget = new LimitCheck(scope, Metric.Spend, Window.CalendarDay, 1_000_000_000, 1_000, 0);
        var tokens = new LimitCheck(scope, Metric.Tokens, Window.Day, 1_000_000, 10, 0);
        var reservations = new List<Reservation>();
        for (int i = 0; i < 3; i++)
        {
            reservations.Add((await store.TryReserveAsync([budget, tokens], 0, 0, now, CancellationToken.None)).Reservation!);
        }

        foreach (var reservation in reservations)
        {
            await store.SettleAsync(reservation, new ActualUsage(long.MaxValue, 9_000_000_000_000_000_000, 9_000_000_000_000_000_000), now, CancellationToken.None);
        }

        Assert.Equal(long.MaxValue, await store.UsedAsync(budget, now, CancellationToken.None));
        Assert.Equal(long.MaxValue, await store.UsedAsync(tokens, now, CancellationToken.None));
        var next = await store.TryReserveAsync([budget, tokens], 0, 0, now, CancellationToken.None);
        Assert.False(next.Admitted);
        Assert.True(next.Remaining <= 0);
    }
}
