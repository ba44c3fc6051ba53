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
    [InlineData(long.MinValue, "-9223372036.854775808")]
    [InlineData(-1_500_000_000, "-1.5")]
    [InlineData(-2_000_000_000, "-2")]
    [InlineData(100_000_000, "0.1")]
    [InlineData(1_000_000_010, "1.00000001")]
    public void FormatDollars_Nanos_IsExactInvariantDecimal(long nanos, string expected)
    {
        Assert.Equal(expected, Money.FormatDollars(nanos));
    }

    [Fact]
    public void FormatDollars_AnyNanos_ReadsBackAsTheSameDecimal()
    {
        var random = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            long nanos = (i % 4) switch
            {
                0 => random.NextInt64(-10_000_000_000, 10_000_000_000),
                1 => random.NextInt64(long.MinValue, long.MaxValue),
                2 => random.NextInt64(-1000, 1000) * 1_000_000,
                _ => random.NextInt64(0, 100) * 1_000_000_000,
            };
            string text = Money.FormatDollars(nanos);

            Assert.Equal(nanos / (decimal)Money.NanosPerDollar, decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
            Assert.DoesNotMatch(@"\.\d*0$|^-?0\d|^-0$", text);
        }
    }
}
