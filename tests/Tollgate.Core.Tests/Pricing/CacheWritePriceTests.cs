using Tollgate.Pricing;

namespace Tollgate.Core.Tests.Pricing;

public sealed class CacheWritePriceTests
{
    // $3 input, $0.30 cache reads, $3.75 five-minute and $6 one-hour cache writes, $15 output per million tokens.
    private static readonly ModelPrice s_claude = new(3_000_000, 300_000, 15_000_000) { CacheWrite5mMicrosPerMillion = 3_750_000, CacheWrite1hMicrosPerMillion = 6_000_000 };

    [Fact]
    public void CostNanos_EachPartOfTheInputAtItsRate()
    {
        var usage = new TokenUsage(1000, 100, 10, 0) { CacheWrite5mTokens = 200, CacheWrite1hTokens = 300 };

        // 400 × 3 + 100 × 0.3 + 200 × 3.75 + 300 × 6 + 10 × 15 = 1200 + 30 + 750 + 1800 + 150 = 3930 micro-dollars.
        Assert.Equal(3_930_000, s_claude.CostNanos(usage));
    }

    [Fact]
    public void CostNanos_WritesBeyondTheInput_HeldWithinIt()
    {
        var usage = new TokenUsage(10, 4, 0, 0) { CacheWrite5mTokens = 100, CacheWrite1hTokens = 100 };

        Assert.Equal(((4 * 300_000L) + (6 * 3_750_000L) + 999) / 1000, s_claude.CostNanos(usage));
    }

    [Theory]
    [InlineData(CacheWrites.None, 3_000_000)]
    [InlineData(CacheWrites.FiveMinutes, 3_750_000)]
    [InlineData(CacheWrites.OneHour, 6_000_000)]
    public void HighestInputMicrosPerMillion_TheRateTheRequestCanIncur(CacheWrites writes, long expected) =>
        Assert.Equal(expected, s_claude.HighestInputMicrosPerMillion(writes));

    [Fact]
    public void Defaults_CacheWritesAtTheInputRate()
    {
        var price = new ModelPrice(1_000_000, 500_000, 2_000_000);

        Assert.Equal(1_000_000, price.HighestInputMicrosPerMillion(CacheWrites.OneHour));
        Assert.Equal(price.CostNanos(new TokenUsage(10, 0, 0, 0)), price.CostNanos(new TokenUsage(10, 0, 0, 0) { CacheWrite1hTokens = 10 }));
    }

    [Fact]
    public void UsageBounds_Clamp_KeepsCacheWritesWithinTheInput()
    {
        var clamped = new UsageBounds(100, 50).Clamp(new TokenUsage(500, 30, 10, 0) { CacheWrite5mTokens = 60, CacheWrite1hTokens = 40 }, out bool wasClamped);

        Assert.True(wasClamped);
        Assert.Equal(new TokenUsage(100, 30, 10, 0) { CacheWrite5mTokens = 60, CacheWrite1hTokens = 10 }, clamped);
    }
}
