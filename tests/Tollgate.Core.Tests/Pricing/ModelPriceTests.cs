using Tollgate.Pricing;

namespace Tollgate.Core.Tests.Pricing;

public sealed class ModelPriceTests
{
    // $0.15 / $0.075 / $0.60 per million tokens.
    private static ModelPrice Mini => new(150_000, 75_000, 600_000);

    [Fact]
    public void CostNanos_UncachedAndCachedInputAndOutput_IsExact()
    {
        var usage = new TokenUsage(InputTokens: 1_000, CachedInputTokens: 400, OutputTokens: 500, ReasoningTokens: 100);

        // 600 × 150,000 + 400 × 75,000 + 500 × 600,000 = 420,000,000 pico-dollars.
        Assert.Equal(420_000, Mini.CostNanos(usage));
    }

    [Fact]
    public void CostNanos_ReasoningTokens_AreNotChargedTwice()
    {
        Assert.Equal(Mini.CostNanos(new TokenUsage(0, 0, 500, 0)), Mini.CostNanos(new TokenUsage(0, 0, 500, 499)));
    }

    [Fact]
    public void CostNanos_CachedMoreThanInput_ChargesAllInputAtCachedRate()
    {
        Assert.Equal(75_000, Mini.CostNanos(new TokenUsage(1_000, 5_000, 0, 0)));
    }

    [Theory]
    [InlineData(100, 420_000)]
    [InlineData(0, 0)]
    [InlineData(50, 210_000)]
    [InlineData(33, 138_600)]
    public void CostNanos_Percent_IsThatShareExactly(int percent, long expected)
    {
        var usage = new TokenUsage(InputTokens: 1_000, CachedInputTokens: 400, OutputTokens: 500, ReasoningTokens: 100);

        Assert.Equal(expected, Mini.CostNanos(usage, percent));
    }

    [Fact]
    public void CostNanos_Percent_RoundsUpOnceInPicoDollars()
    {
        var onePicoEach = new ModelPrice(1, 1, 1);

        // 1,001 pico-dollars at 50 % is 500.5 pico-dollars: one nano-dollar, rounded up once.
        Assert.Equal(1, onePicoEach.CostNanos(new TokenUsage(1_001, 0, 0, 0), 50));
        // 2,002 at 50 % is exactly 1,001 pico-dollars: two nano-dollars.
        Assert.Equal(2, onePicoEach.CostNanos(new TokenUsage(2_002, 0, 0, 0), 50));
        Assert.Equal(0, onePicoEach.CostNanos(new TokenUsage(2_002, 0, 0, 0), 0));
        // The highest price the configuration accepts ($1,000,000 per million tokens) saturates instead of wrapping.
        Assert.Equal(long.MaxValue, new ModelPrice(1_000_000_000_000, 0, 0).CostNanos(new TokenUsage(long.MaxValue, 0, 0, 0), 100));
    }

    [Fact]
    public void CostNanos_Fractions_RoundUpOnceForTheWholeRequest()
    {
        var onePicoEach = new ModelPrice(1, 1, 1);

        Assert.Equal(1, onePicoEach.CostNanos(new TokenUsage(1, 0, 0, 0)));
        // 3 + 3 pico-dollars is one nano-dollar, not one per part.
        Assert.Equal(1, onePicoEach.CostNanos(new TokenUsage(3, 1, 3, 0)));
        Assert.Equal(1, onePicoEach.CostNanos(new TokenUsage(1_000, 0, 0, 0)));
        Assert.Equal(2, onePicoEach.CostNanos(new TokenUsage(1_001, 0, 0, 0)));
    }

    [Fact]
    public void CostNanos_NoTokens_IsZero()
    {
        Assert.Equal(0, Mini.CostNanos(default));
    }

    [Fact]
    public void CostNanos_BeyondLongRange_Saturates()
    {
        var expensive = new ModelPrice(1_000_000_000_000, 1_000_000_000_000, 1_000_000_000_000);

        Assert.Equal(long.MaxValue, expensive.CostNanos(new TokenUsage(long.MaxValue, 0, long.MaxValue, 0)));
    }
}
