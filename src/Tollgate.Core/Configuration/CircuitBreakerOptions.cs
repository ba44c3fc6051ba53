namespace Tollgate.Configuration;

/// <summary>
/// A circuit breaker in front of one upstream: when at least <see cref="FailureRatio"/> of the calls within
/// <see cref="SamplingDuration"/> failed (and there were at least <see cref="MinimumThroughput"/>), the breaker opens
/// for <see cref="BreakDuration"/>: requests for the upstream go to their model's fallbacks or are refused at once,
/// before anything is reserved. Then one probe request is let through (half-open): its success closes the breaker,
/// its failure opens it again. Failures are connect failures, timeouts and resets before the headers, and 5xx
/// answers; a 429 is not (it cools the upstream down instead, see <see cref="UpstreamOptions.MaxRetryWait"/>).
/// </summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>The share of failed calls, above 0 and at most 1, that opens the breaker.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>The window over which calls are counted (at least 0.5 s).</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The fewest calls within the window before the ratio can open the breaker (at least 2).</summary>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>How long the breaker stays open before a probe is let through (at least 0.5 s).</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
