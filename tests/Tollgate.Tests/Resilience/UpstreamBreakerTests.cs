using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Resilience;

namespace Tollgate.Tests.Resilience;

/// <summary>The breaker walked through its states on a fake clock: closed, open (refusing with the time left), half-open (one probe), and back.</summary>
public sealed class UpstreamBreakerTests
{
    private static readonly GatewayError s_error = new(502, ErrorTypes.Server, ErrorCodes.UpstreamError, "failed");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero));
    private readonly UpstreamBreaker _breaker;

    public UpstreamBreakerTests() => _breaker = new UpstreamBreaker("up", new CircuitBreakerOptions
    {
        FailureRatio = 0.5,
        MinimumThroughput = 4,
        SamplingDuration = TimeSpan.FromSeconds(10),
        BreakDuration = TimeSpan.FromSeconds(30),
    }, _time, NullLogger.Instance);

    [Fact]
    public async Task Breaker_WalksClosedOpenHalfOpenOpenHalfOpenClosed()
    {
        // Closed: two successes and one failure, below the minimum throughput.
        await RunAsync(Success);
        await RunAsync(Success);
        await RunAsync(Failure);
        Assert.Equal(CircuitState.Closed, _breaker.State);
        Assert.False(_breaker.IsOpen(_time.GetUtcNow(), out _));

        // The fourth call makes 2 failures of 4: open, for the whole break.
        await RunAsync(Failure);
        Assert.Equal(CircuitState.Open, _breaker.State);
        Assert.True(_breaker.IsOpen(_time.GetUtcNow(), out var remaining));
        Assert.Equal(TimeSpan.FromSeconds(30), remaining);
        _time.Advance(TimeSpan.FromSeconds(12));
        Assert.True(_breaker.IsOpen(_time.GetUtcNow(), out remaining));
        Assert.Equal(TimeSpan.FromSeconds(18), remaining);
        Assert.Null(await _breaker.ExecuteAsync(_ => throw new InvalidOperationException("an open breaker must not call"), 0));

        // Past the break: not refused; the next call is the probe, and while it runs everyone else is refused.
        _time.Advance(TimeSpan.FromSeconds(18));
        Assert.False(_breaker.IsOpen(_time.GetUtcNow(), out _));
        var release = new TaskCompletionSource<AttemptResult>();
        var probe = _breaker.ExecuteAsync(_ => new ValueTask<AttemptResult>(release.Task), 0);
        Assert.Equal(CircuitState.HalfOpen, _breaker.State);
        Assert.True(_breaker.IsOpen(_time.GetUtcNow(), out remaining));
        Assert.Equal(UpstreamBreaker.ProbeWait, remaining);
        Assert.Null(await _breaker.ExecuteAsync(_ => throw new InvalidOperationException("only one probe"), 0));

        // The probe fails: open again for a whole break.
        release.SetResult(Failure);
        Assert.Equal(AttemptEnd.Retryable, (await probe)!.Value.End);
        Assert.Equal(CircuitState.Open, _breaker.State);
        Assert.True(_breaker.IsOpen(_time.GetUtcNow(), out remaining));
        Assert.Equal(TimeSpan.FromSeconds(30), remaining);

        // The next probe succeeds: closed.
        _time.Advance(TimeSpan.FromSeconds(30));
        await RunAsync(Success);
        Assert.Equal(CircuitState.Closed, _breaker.State);
        Assert.False(_breaker.IsOpen(_time.GetUtcNow(), out _));
    }

    [Fact]
    public async Task RateLimitsAndClientErrors_AreNotFailures()
    {
        for (int i = 0; i < 10; i++)
        {
            await RunAsync(new AttemptResult(AttemptEnd.RateLimited, null, s_error));
            await RunAsync(new AttemptResult(AttemptEnd.Final, null, s_error));
        }

        Assert.Equal(CircuitState.Closed, _breaker.State);
    }

    [Fact]
    public async Task FailuresOutsideTheSamplingWindow_DoNotOpen()
    {
        await RunAsync(Failure);
        await RunAsync(Failure);
        _time.Advance(TimeSpan.FromSeconds(11));
        await RunAsync(Success);
        await RunAsync(Success);
        await RunAsync(Failure);
        await RunAsync(Success);

        Assert.Equal(CircuitState.Closed, _breaker.State);
    }

    [Fact]
    public async Task AnException_CountsAsAFailureAndIsRethrown()
    {
        for (int i = 0; i < 3; i++)
        {
            await RunAsync(Failure);
        }

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await _breaker.ExecuteAsync<int>(_ => throw new InvalidOperationException("bug"), 0));
        Assert.Equal(CircuitState.Open, _breaker.State);
    }

    private static AttemptResult Success => new(AttemptEnd.Final, null, s_error, BreakerFailure: false);

    private static AttemptResult Failure => new(AttemptEnd.Retryable, null, s_error, BreakerFailure: true);

    private async Task RunAsync(AttemptResult result) =>
        Assert.NotNull(await _breaker.ExecuteAsync(static r => ValueTask.FromResult(r), result));
}
