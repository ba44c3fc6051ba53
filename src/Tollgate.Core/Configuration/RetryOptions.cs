namespace Tollgate.Configuration;

/// <summary>
/// Retries on the same upstream, before any byte of an answer reached the caller, of the failures known to be
/// unbilled: a connection that could not be opened (when <see cref="UnknownOutcomeOptions.ConnectFailure"/> bills
/// nothing) and a 500, 502 or 503 answer. Each retry is admitted (and reserved) on its own; none counts as another
/// request against the caller's request limits.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>Retries after the first call, 0 to 10; 0 turns retries off.</summary>
    public int MaxRetries { get; set; }

    /// <summary>The wait before the first retry, doubled for each next one (with jitter); zero retries at once.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(200);
}
