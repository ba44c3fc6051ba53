using Tollgate.Limits;

namespace Tollgate.Core.Tests.Limits;

public sealed class LimitTextTests
{
    [Theory]
    [InlineData(0, "0ms")]
    [InlineData(-5_000, "0ms")]
    [InlineData(120, "120ms")]
    [InlineData(999.2, "1000ms")]
    [InlineData(1_000, "1s")]
    [InlineData(14_000, "14s")]
    [InlineData(59_100, "1m0s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(7_384_000, "2h3m4s")]
    [InlineData(31L * 24 * 3_600_000, "744h0m0s")]
    public void Duration_IsGoStyleRoundedUp(double milliseconds, string expected)
    {
        Assert.Equal(expected, LimitText.Duration(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Theory]
    [InlineData(0, "2026-11-24T00:00:00Z")]
    [InlineData(1, "2026-11-24T00:00:01Z")]
    [InlineData(999_999, "2026-11-24T00:16:40Z")]
    public void Instant_IsRfc3339InUtcRoundedUpToTheSecond(long milliseconds, string expected)
    {
        var at = new DateTimeOffset(2026, 11, 24, 1, 0, 0, TimeSpan.FromHours(1)).AddMilliseconds(milliseconds);
        Assert.Equal(expected, LimitText.Instant(at));
    }
}
