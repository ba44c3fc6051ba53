using Polly;
using Polly.CircuitBreaker;
using Tollgate.Configuration;

namespace Tollgate.Resilience;

/// <summary>
/// One upstream's circuit breaker: Polly's, over the calls to the upstream (from sending the request to its response
/// headers), on the injected <see cref="TimeProvider"/>. <see cref="IsOpen"/> is read before a request reserves
/// anything, so an open breaker refuses in microseconds; the breaker itself (<see cref="ExecuteAsync{TState}"/>)
/// decides which one request goes through as the half-open probe.
/// </summary>
internal sealed partial class UpstreamBreaker
{
    /// <summary>What a caller is told to wait while the half-open probe is in flight.</summary>
    public static readonly TimeSpan ProbeWait = TimeSpan.FromSeconds(1);

    private readonly ResiliencePipeline<AttemptResult> _pipeline;
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly TimeProvider _time;
    private long _openUntilTicks;

    public UpstreamBreaker(string upstream, CircuitBreakerOptions options, TimeProvider time, ILogger logger)
    {
        _time = time;
        Settings = (options.FailureRatio, options.SamplingDuration, options.MinimumThroughput, options.BreakDuration);
        _pipeline = new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<AttemptResult>
            {
                FailureRatio = options.FailureRatio,
                SamplingDuration = options.SamplingDuration,
                MinimumThroughput = options.MinimumThroughput,
                BreakDuration = options.BreakDuration,
                StateProvider = _state,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is not null || args.Outcome.Result.BreakerFailure),
                OnOpened = args =>
                {
                    Volatile.Write(ref _openUntilTicks, (_time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    LogOpened(logger, upstream, args.BreakDuration.TotalSeconds);
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    LogHalfOpened(logger, upstream);
                    return default;
                },
                OnClosed = _ =>
                {
                    LogClosed(logger, upstream);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>The settings it was built with, to keep it (and its state) across a reload that does not change them.</summary>
    public (double FailureRatio, TimeSpan SamplingDuration, int MinimumThroughput, TimeSpan BreakDuration) Settings { get; }

    /// <summary>The breaker's state now (open stays open until a call after the break makes it half-open).</summary>
    public CircuitState State => _state.CircuitState;

    /// <summary>
    /// Whether calls are refused now and for how long still: open within its break, or half-open with the probe in
    /// flight (<see cref="ProbeWait"/>). Open past its break is not refused: the next call is the probe.
    /// </summary>
    public bool IsOpen(DateTimeOffset now, out TimeSpan remaining)
    {
        switch (_state.CircuitState)
        {
            case CircuitState.Closed:
                remaining = TimeSpan.Zero;
                return false;
            case CircuitState.HalfOpen:
                remaining = ProbeWait;
                return true;
            default:
                remaining = new DateTimeOffset(Volatile.Read(ref _openUntilTicks), TimeSpan.Zero) - now;
                if (remaining <= TimeSpan.Zero)
                {
                    remaining = TimeSpan.Zero;
                    return false;
                }

                return true;
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> through the breaker, which counts its outcome (<see cref="AttemptResult.BreakerFailure"/>);
    /// null when the breaker refused to run it (open, or half-open with another probe in flight).
    /// </summary>
    public async ValueTask<AttemptResult?> ExecuteAsync<TState>(Func<TState, ValueTask<AttemptResult>> call, TState state)
    {
        var context = ResilienceContextPool.Shared.Get();
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(
                static async (_, s) =>
                {
                    try
                    {
                        return Outcome.FromResult(await s.call(s.state).ConfigureAwait(false));
                    }
                    catch (Exception e)
                    {
                        return Outcome.FromException<AttemptResult>(e);
                    }
                },
                context,
                (call, state)).ConfigureAwait(false);
            if (outcome.Exception is BrokenCircuitException)
            {
                return null;
            }

            outcome.ThrowIfException();
            return outcome.Result;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Circuit breaker of upstream {Upstream} opened for {Seconds} s: requests go to fallbacks or are refused")]
    private static partial void LogOpened(ILogger logger, string upstream, double seconds);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Circuit breaker of upstream {Upstream} half-open: one probe request goes through")]
    private static partial void LogHalfOpened(ILogger logger, string upstream);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Circuit breaker of upstream {Upstream} closed")]
    private static partial void LogClosed(ILogger logger, string upstream);
}
