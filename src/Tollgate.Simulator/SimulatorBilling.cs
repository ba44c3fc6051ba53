namespace Tollgate.Simulator;

/// <summary>The bills of every generation the simulator performed, in the order they were settled. Thread-safe.</summary>
public sealed class SimulatorBilling
{
    private readonly Lock _lock = new();
    private readonly List<SimulatorBill> _bills = [];
    private readonly List<(string ClientRequestId, TaskCompletionSource<SimulatorBill> Signal)> _watchers = [];

    internal SimulatorBilling()
    {
    }

    /// <summary>A snapshot of all bills so far.</summary>
    public IReadOnlyList<SimulatorBill> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _bills];
            }
        }
    }

    /// <summary>
    /// The latest bill of the request the gateway identified as <paramref name="clientRequestId"/>, or null.
    /// A bill is settled as soon as its generation is delivered, before the closing chunks, usage and
    /// <c>[DONE]</c>, so a client that has read a response always finds it.
    /// </summary>
    public SimulatorBill? Find(string clientRequestId)
    {
        lock (_lock)
        {
            for (int i = _bills.Count - 1; i >= 0; i--)
            {
                if (string.Equals(_bills[i].ClientRequestId, clientRequestId, StringComparison.Ordinal))
                {
                    return _bills[i];
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Completes with the bill of <paramref name="clientRequestId"/> once it is settled (at once if it already is):
    /// a bill can settle after the client has given up on its response, when the generation notices.
    /// </summary>
    public Task<SimulatorBill> WaitForAsync(string clientRequestId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (Find(clientRequestId) is { } bill)
            {
                return Task.FromResult(bill);
            }

            var signal = new TaskCompletionSource<SimulatorBill>(TaskCreationOptions.RunContinuationsAsynchronously);
            _watchers.Add((clientRequestId, signal));
            return signal.Task.WaitAsync(cancellationToken);
        }
    }

    internal void Record(SimulatorBill bill)
    {
        lock (_lock)
        {
            _bills.Add(bill);
            for (int i = _watchers.Count - 1; i >= 0; i--)
            {
                if (string.Equals(_watchers[i].ClientRequestId, bill.ClientRequestId, StringComparison.Ordinal))
                {
                    _watchers[i].Signal.TrySetResult(bill);
                    _watchers.RemoveAt(i);
                }
            }
        }
    }
}
