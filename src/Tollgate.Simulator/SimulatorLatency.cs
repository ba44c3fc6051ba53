using Tollgate.Configuration;

namespace Tollgate.Simulator;

/// <summary>Waits out the simulated model's latency on the injected clock, and a stream's <c>pause</c> directive.</summary>
internal sealed class SimulatorLatency(TimeProvider timeProvider, SimulatorLatencyOptions options, SimulatorBarrier barrier)
{
    /// <summary>
    /// Before streamed piece number <paramref name="sent"/> (from 0): the time to the first token or between two tokens,
    /// then, at the piece a <c>pause=K:GATE</c> directive names, the wait at that barrier gate.
    /// </summary>
    public async Task BeforePieceAsync(SimulatorCall call, long sent, CancellationToken cancellationToken)
    {
        await DelayAsync(sent == 0 ? options.TimeToFirstToken : options.TimePerToken, cancellationToken);
        if (call.Directives.Pause is { } pause && pause.After == sent)
        {
            await barrier.HoldAsync(pause.Gate, cancellationToken);
        }
    }

    /// <summary>Before a whole (non-streamed) reply of <paramref name="tokens"/> tokens: as long as streaming it would take.</summary>
    public Task BeforeWholeReplyAsync(long tokens, CancellationToken cancellationToken) =>
        DelayAsync(options.TimeToFirstToken + (options.TimePerToken * Math.Max(tokens - 1, 0)), cancellationToken);

    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, timeProvider, cancellationToken) : Task.CompletedTask;
}
