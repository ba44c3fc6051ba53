using Microsoft.AspNetCore.Http;
using Tollgate.Limits;
using Tollgate.Proxy;

namespace Tollgate.Tests.Proxy;

public sealed class RateLimitHeadersTests
{
    private static readonly DateTimeOffset _now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static readonly Scope _key = new(ScopeKind.Key, "k:key_1", "key key_1", TimeZoneInfo.Utc);

    [Fact]
    public void WriteRetry_WaitWithinAMinute_RetryAfterInSecondsAndMilliseconds()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.WriteRetry(headers, TimeSpan.FromMilliseconds(40_300), shouldRetry: null);

        Assert.Equal(("41", "40300"), (headers["Retry-After"].ToString(), headers["retry-after-ms"].ToString()));
        Assert.False(headers.ContainsKey("x-should-retry"));
    }

    [Fact]
    public void WriteRetry_WaitLongerThanAMinute_NoRetryAfterAndShouldRetryFalse()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.WriteRetry(headers, TimeSpan.FromSeconds(86_849), shouldRetry: null);

        Assert.False(headers.ContainsKey("Retry-After"));
        Assert.False(headers.ContainsKey("retry-after-ms"));
        Assert.Equal("false", headers["x-should-retry"].ToString());
    }

    [Fact]
    public void Write_Refusal_ReportsTheRefusingLimitForItsMetricAndTheBudgetReset()
    {
        var perMinute = new LimitCheck(_key, Metric.Requests, Window.Minute, 60, 1, 0);
        var perDay = new LimitCheck(_key, Metric.Requests, Window.Day, 1_000, 1, 0);
        var budget = new LimitCheck(_key, Metric.Spend, Window.CalendarDay, 5_000_000_000, 0, 0);
        var midnight = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
        LimitStatus[] statuses =
        [
            new(perMinute, 3, TimeSpan.FromSeconds(14), _now.AddSeconds(14)),
            new(perDay, 10, TimeSpan.FromHours(2), _now.AddHours(2)),
            new(budget, 1_250_000_000, midnight - _now, midnight),
        ];
        var headers = new HeaderDictionary();

        RateLimitHeaders.Write(headers, statuses, refusedBy: perDay);

        Assert.Equal(("1000", "10", "2h0m0s"), (headers["x-ratelimit-limit-requests"].ToString(),
            headers["x-ratelimit-remaining-requests"].ToString(), headers["x-ratelimit-reset-requests"].ToString()));
        Assert.Equal(("1.25", "2026-11-24T00:00:00Z"), (headers[RateLimitHeaders.BudgetRemaining].ToString(), headers[RateLimitHeaders.BudgetReset].ToString()));
    }

    [Fact]
    public void Write_NoRefusingLimit_ReportsTheTightest()
    {
        var perMinute = new LimitCheck(_key, Metric.Requests, Window.Minute, 60, 1, 0);
        var perDay = new LimitCheck(_key, Metric.Requests, Window.Day, 1_000, 1, 0);
        var headers = new HeaderDictionary();

        RateLimitHeaders.Write(headers, [new(perMinute, 3, TimeSpan.FromSeconds(14), _now.AddSeconds(14)), new(perDay, 10, TimeSpan.FromHours(2), _now.AddHours(2))], refusedBy: null);

        Assert.Equal(("60", "3", "14s"), (headers["x-ratelimit-limit-requests"].ToString(),
            headers["x-ratelimit-remaining-requests"].ToString(), headers["x-ratelimit-reset-requests"].ToString()));
        Assert.False(headers.ContainsKey(RateLimitHeaders.BudgetReset));
    }

    [Theory]
    [InlineData(0, "2026-11-23T12:00:00Z")]
    [InlineData(1, "2026-11-23T12:00:01Z")]
    [InlineData(999, "2026-11-23T12:00:01Z")]
    public void Instant_Rfc3339UtcRoundedUpToTheSecond(int milliseconds, string expected) =>
        Assert.Equal(expected, LimitText.Instant(_now.AddMilliseconds(milliseconds)));

    [Fact]
    public void Instant_OtherOffset_WrittenInUtc() =>
        Assert.Equal("2026-11-23T23:00:00Z", LimitText.Instant(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.FromHours(1))));
}
