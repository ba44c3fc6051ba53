using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Configuration;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Resilience;

namespace Tollgate.Tests.Resilience;

/// <summary>The cool-down after a 429, and keeping an upstream's state across reloads that leave its settings alone.</summary>
public sealed class UpstreamResilienceTests
{
    private static readonly ModelDefinition s_model = new("m", "up", "m", ModelTypes.Chat, new ModelPrice(1, 1, 1), 1000, 100, "o200k_base", 0);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData(7, null, 5)] // Retry-After 7 s, at most MaxRetryWait
    [InlineData(3, null, 3)]
    [InlineData(null, null, 1)] // no Retry-After: 1 s
    [InlineData(null, false, 5)] // more than a minute asked for: the longest
    public void UpstreamRateLimit_CoolsDownForItsRetryAfter_AtMostMaxRetryWait(int? retryAfter, bool? shouldRetry, int expected)
    {
        var resilience = new UpstreamResilience("up", new UpstreamOptions { MaxRetryWait = TimeSpan.FromSeconds(5) }, _time, NullLogger.Instance);
        var refusal = new GatewayError(429, "requests", ErrorCodes.UpstreamRateLimited, "slow down")
        {
            RetryAfter = retryAfter is { } s ? TimeSpan.FromSeconds(s) : null,
            ShouldRetry = shouldRetry,
        };

        resilience.CoolDown(refusal, _time.GetUtcNow());

        var blocked = resilience.Blocked(s_model, _time.GetUtcNow());
        Assert.Equal((429, ErrorCodes.UpstreamRateLimited), (blocked!.Status, blocked.Code));
        Assert.Equal(TimeSpan.FromSeconds(expected), blocked.RetryAfter);
        _time.Advance(TimeSpan.FromSeconds(expected));
        Assert.Null(resilience.Blocked(s_model, _time.GetUtcNow()));
    }

    [Fact]
    public void NoMaxRetryWait_A429DoesNotCoolDown()
    {
        var resilience = new UpstreamResilience("up", new UpstreamOptions { Retry = new RetryOptions { MaxRetries = 1 } }, _time, NullLogger.Instance);

        resilience.CoolDown(new GatewayError(429, "requests", ErrorCodes.UpstreamRateLimited, "slow down") { RetryAfter = TimeSpan.FromSeconds(7) }, _time.GetUtcNow());

        Assert.Null(resilience.Blocked(s_model, _time.GetUtcNow()));
    }

    [Fact]
    public void Registry_KeepsStateAcrossReloadsWithTheSameSettings_StartsAfreshOnAChange_NoneWithoutSettings()
    {
        var registry = new UpstreamResilienceRegistry(_time, NullLogger<UpstreamResilience>.Instance);
        var first = registry.Get("up", new UpstreamOptions { CircuitBreaker = new CircuitBreakerOptions(), MaxRetryWait = TimeSpan.FromSeconds(3) });

        var same = registry.Get("up", new UpstreamOptions { CircuitBreaker = new CircuitBreakerOptions(), MaxRetryWait = TimeSpan.FromSeconds(3), IdleTimeout = TimeSpan.FromSeconds(5) });
        var changed = registry.Get("up", new UpstreamOptions { CircuitBreaker = new CircuitBreakerOptions { BreakDuration = TimeSpan.FromSeconds(9) }, MaxRetryWait = TimeSpan.FromSeconds(3) });

        Assert.NotNull(first);
        Assert.Same(first, same);
        Assert.NotSame(first, changed);
        Assert.Null(registry.Get("up", new UpstreamOptions()));
        Assert.Null(registry.Get("other", new UpstreamOptions { Retry = new RetryOptions { MaxRetries = 0 } }));
    }

    [Fact]
    public void BreakLongerThanAMinute_SaysDoNotRetry()
    {
        var resilience = new UpstreamResilience("up", new UpstreamOptions { MaxRetryWait = TimeSpan.FromMinutes(10) }, _time, NullLogger.Instance);

        resilience.CoolDown(new GatewayError(429, "requests", ErrorCodes.UpstreamRateLimited, "slow down") { ShouldRetry = false }, _time.GetUtcNow());

        var blocked = resilience.Blocked(s_model, _time.GetUtcNow())!;
        Assert.Null(blocked.RetryAfter);
        Assert.False(blocked.ShouldRetry);
    }
}
