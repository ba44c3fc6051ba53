namespace Tollgate.Proxy;

/// <summary>Counts requests being handled so shutdown can wait for their audit records before the final flush.</summary>
internal sealed class InFlightRequests
{
    private readonly Lock _lock = new();
    private int _count;
    private TaskCompletionSource? _drained;

    public int Count => Volatile.Read(ref _count);

    public void Enter()
    {
        lock (_lock)
        {
            _count++;
        }
    }

    public void Exit()
    {
        lock (_lock)
        {
            if (--_count == 0)
            {
                _drained?.TrySetResult();
            }
        }
    }

    /// <summary>Completes when no request is in flight, or after <paramref name="timeout"/>.</summary>
    public async Task WaitForDrainAsync(TimeSpan timeout, TimeProvider timeProvider)
    {
        Task drained;
        lock (_lock)
        {
            if (_count == 0)
            {
                return;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            drained = _drained.Task;
        }

        await Task.WhenAny(drained, Task.Delay(timeout, timeProvider)).ConfigureAwait(false);
    }
}
