using Tollgate.Pricing;

namespace Tollgate.Core.Tests.Pricing;

public sealed class MoneyTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("0.15", 150_000)]
    [InlineData("0.000001", 1)]
    [InlineData("60.00", 60_000_000)]
    [InlineData("1000000", 1_000_000_000_000)]
    public void TryGetMicrosPerMillion_AtMostSixDecimals_ReturnsExactMicros(string dollars, long expected)
    {
        Assert.True(Money.TryGetMicrosPerMillion(decimal.Parse(dollars, System.Globalization.CultureInfo.InvariantCulture), out long micros));
        Assert.Equal(expected, micros);
    }

    [Theory]
    [InlineData("0.0000001")]
    [InlineData("1.0000005")]
    [InlineData("-0.01")]
    [InlineData("-1")]
    [InlineData("1000000.000001")]
    public void TryGetMicrosPerMillion_SevenDecimalsNegativeOrTooLarge_ReturnsFalse(string dollars)
    {
        Assert.False(Money.TryGetMicrosPerMillion(decimal.Parse(dollars, System.Globalization.CultureInfo.InvariantCulture), out long micros));
        Assert.Equal(0, micros);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(1, "0.000000001")]
    [InlineData(12_345, "0.000012345")]
    [InlineData(1_000_000_000, "1")]
    [InlineData(1_500_000_000, "1.5")]
    [InlineData(-1, "-0.000000001")]
    [InlineData(long.MaxValue, "9223372036.854775807")]
    public void FormatDollars_Nanos_IsExactInvariantDecimal(long nanos, string expected)
    {
        Assert.Equal(expected, Money.FormatDollars(nanos));
    }
}
