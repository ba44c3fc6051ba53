using Tollgate.Configuration;

namespace Tollgate.Simulator;

/// <summary>Waits out the simulated model's latency on the injected clock.</summary>
internal sealed class SimulatorLatency(TimeProvider timeProvider, SimulatorLatencyOptions options)
{
    /// <summary>Before the first token of a stream.</summary>
    public Task BeforeFirstTokenAsync(CancellationToken cancellationToken) =>
        DelayAsync(options.TimeToFirstToken, cancellationToken);

    /// <summary>Between two streamed tokens.</summary>
    public Task BetweenTokensAsync(CancellationToken cancellationToken) =>
        DelayAsync(options.TimePerToken, cancellationToken);

    /// <summary>Before a whole (non-streamed) reply of <paramref name="tokens"/> tokens: as long as streaming it would take.</summary>
    public Task BeforeWholeReplyAsync(long tokens, CancellationToken cancellationToken) =>
        DelayAsync(options.TimeToFirstToken + (options.TimePerToken * Math.Max(tokens - 1, 0)), cancellationToken);

    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, timeProvider, cancellationToken) : Task.CompletedTask;
}
