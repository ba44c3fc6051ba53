using Polly;
using Polly.Retry;
using Tollgate.Configuration;
using Tollgate.Limits;
using Tollgate.Protocol;

namespace Tollgate.Resilience;

/// <summary>
/// The resilience state of one upstream, kept across requests (and across reloads that leave its settings alone):
/// its circuit breaker, its cool-down after a 429, and the Polly retry pipeline of its calls.
/// </summary>
internal sealed partial class UpstreamResilience
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _coolUntilTicks;

    public UpstreamResilience(string name, UpstreamOptions options, TimeProvider time, ILogger logger)
    {
        Name = name;
        _time = time;
        _logger = logger;
        MaxRetryWait = options.MaxRetryWait;
        RetrySettings = options.Retry is { MaxRetries: > 0 } r ? (r.MaxRetries, r.Delay) : null;
        Breaker = options.CircuitBreaker is { } breaker ? new UpstreamBreaker(name, breaker, time, logger) : null;
        if (RetrySettings is { } retry)
        {
            Retry = new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time }
                .AddRetry(new RetryStrategyOptions<AttemptResult>
                {
                    MaxRetryAttempts = retry.MaxRetries,
                    Delay = retry.Delay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is null && args.Outcome.Result.End == AttemptEnd.Retryable),
                })
                .Build();
        }
    }

    public string Name { get; }

    /// <summary>The circuit breaker, when one is configured.</summary>
    public UpstreamBreaker? Breaker { get; }

    /// <summary>The retry pipeline of this upstream's attempts, when retries are configured.</summary>
    public ResiliencePipeline<AttemptResult>? Retry { get; }

    /// <summary>The longest a 429 cools the upstream down; zero for no cool-down.</summary>
    public TimeSpan MaxRetryWait { get; }

    private (int MaxRetries, TimeSpan Delay)? RetrySettings { get; }

    /// <summary>Whether this was built from the same resilience settings as <paramref name="options"/> (so it keeps its state on reload).</summary>
    public bool Matches(UpstreamOptions options) =>
        options.MaxRetryWait == MaxRetryWait
        && (options.Retry is { MaxRetries: > 0 } r ? (r.MaxRetries, r.Delay) : ((int, TimeSpan)?)null) == RetrySettings
        && (options.CircuitBreaker is { } b
            ? ((double, TimeSpan, int, TimeSpan)?)(b.FailureRatio, b.SamplingDuration, b.MinimumThroughput, b.BreakDuration)
            : null) == Breaker?.Settings;

    /// <summary>
    /// Why <paramref name="model"/>'s requests cannot go to this upstream now, as the refusal a caller would get —
    /// the breaker is open (503 <c>upstream_unavailable</c>) or the upstream cools down after a 429 (429
    /// <c>upstream_rate_limited</c>), each with the time left — or null when they can.
    /// </summary>
    public GatewayError? Blocked(ModelDefinition model, DateTimeOffset now)
    {
        if (Breaker is { } breaker && breaker.IsOpen(now, out var remaining))
        {
            return Wait(new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.UpstreamUnavailable,
                $"The upstream for '{model.Name}' is failing; requests to it are paused for {LimitText.Duration(remaining)}."), remaining);
        }

        if (MaxRetryWait > TimeSpan.Zero)
        {
            var cooling = new DateTimeOffset(Volatile.Read(ref _coolUntilTicks), TimeSpan.Zero) - now;
            if (cooling > TimeSpan.Zero)
            {
                return Wait(new GatewayError(429, "requests", ErrorCodes.UpstreamRateLimited,
                    $"The upstream for '{model.Name}' is rate limiting requests; retry after the delay in Retry-After."), cooling);
            }
        }

        return null;
    }

    /// <summary>
    /// Cools the upstream down after its 429: for its <c>Retry-After</c> (1 s when it sent none; the longest when it
    /// asked for more than a minute), at most <see cref="MaxRetryWait"/>. A no-op when cool-downs are off.
    /// </summary>
    public void CoolDown(GatewayError upstreamRefusal, DateTimeOffset now)
    {
        if (MaxRetryWait <= TimeSpan.Zero)
        {
            return;
        }

        var wait = upstreamRefusal.RetryAfter ?? (upstreamRefusal.ShouldRetry == false ? MaxRetryWait : TimeSpan.FromSeconds(1));
        if (wait > MaxRetryWait)
        {
            wait = MaxRetryWait;
        }

        long until = (now + wait).UtcTicks;
        long seen = Volatile.Read(ref _coolUntilTicks);
        while (until > seen)
        {
            long previous = Interlocked.CompareExchange(ref _coolUntilTicks, until, seen);
            if (previous == seen)
            {
                LogCooling(_logger, Name, wait.TotalSeconds);
                return;
            }

            seen = previous;
        }
    }

    // The breaker's and the cool-down's waits follow the gateway's own rule (RefusalRetry): a Retry-After of up to
    // a minute, anything longer as "do not retry" with the wait in the message.
    private static GatewayError Wait(GatewayError error, TimeSpan remaining) =>
        remaining <= RefusalRetry.MaxRetryAfter ? error with { RetryAfter = remaining } : error with { ShouldRetry = false };

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Upstream {Upstream} answered 429: cooling down for {Seconds} s")]
    private static partial void LogCooling(ILogger logger, string upstream, double seconds);
}
