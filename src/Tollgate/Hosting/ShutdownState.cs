namespace Tollgate.Hosting;

/// <summary>
/// Shutdown as the proxy sees it: once stopping, new requests are refused; once the drain timeout has passed,
/// <see cref="HardStop"/> cuts what is still running so it settles and is recorded before the final flush.
/// </summary>
internal sealed class ShutdownState : IDisposable
{
    private readonly CancellationTokenSource _hardStop = new();
    private volatile bool _stopping;

    public bool IsStopping => _stopping;

    public CancellationToken HardStop => _hardStop.Token;

    public void BeginStopping(TimeSpan drainTimeout, TimeProvider timeProvider)
    {
        _stopping = true;
        _ = CutAfterAsync(drainTimeout, timeProvider);
    }

    public void Dispose() => _hardStop.Dispose();

    private async Task CutAfterAsync(TimeSpan drainTimeout, TimeProvider timeProvider)
    {
        // Cut slightly before the host's own shutdown timeout so handlers settle while the server still waits for them.
        var cut = drainTimeout > TimeSpan.FromSeconds(2) ? drainTimeout - TimeSpan.FromSeconds(1) : drainTimeout / 2;
        await Task.Delay(cut, timeProvider).ConfigureAwait(false);
        try
        {
            await _hardStop.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
