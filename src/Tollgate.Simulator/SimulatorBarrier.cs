namespace Tollgate.Simulator;

/// <summary>
/// Named gates that hold requests carrying <c>[[sim:hold=NAME]]</c> until a test releases them, so a test can
/// keep any number of calls in flight at once. Thread-safe.
/// </summary>
public sealed class SimulatorBarrier
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SimulatorGate> _gates = new(StringComparer.Ordinal);

    internal SimulatorBarrier()
    {
    }

    /// <summary>How many requests are held at <paramref name="gate"/> now.</summary>
    public int Waiting(string gate)
    {
        lock (_lock)
        {
            return _gates.TryGetValue(gate, out var state) ? state.Waiting : 0;
        }
    }

    /// <summary>Releases every request held at <paramref name="gate"/> and lets later ones through, until <see cref="Reset"/>.</summary>
    public void Release(string gate)
    {
        lock (_lock)
        {
            var state = GetOrAdd(gate);
            state.IsOpen = true;
            state.Waiting = 0;
            state.Opened.TrySetResult();
        }
    }

    /// <summary>Closes <paramref name="gate"/> again: requests arriving from now on are held.</summary>
    public void Reset(string gate)
    {
        lock (_lock)
        {
            var state = GetOrAdd(gate);
            if (state.IsOpen)
            {
                state.IsOpen = false;
                state.Opened = SimulatorGate.NewSignal();
            }
        }
    }

    /// <summary>Completes when at least <paramref name="count"/> requests are held at <paramref name="gate"/>.</summary>
    public Task WaitForWaitingAsync(string gate, int count, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var state = GetOrAdd(gate);
            if (state.Waiting >= count)
            {
                return Task.CompletedTask;
            }

            var signal = SimulatorGate.NewSignal();
            state.Watchers.Add((count, signal));
            return signal.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Holds the caller until <paramref name="gate"/> opens or <paramref name="cancellationToken"/> fires.</summary>
    internal async Task HoldAsync(string gate, CancellationToken cancellationToken)
    {
        Task opened;
        SimulatorGate state;
        lock (_lock)
        {
            state = GetOrAdd(gate);
            if (state.IsOpen)
            {
                return;
            }

            state.Waiting++;
            opened = state.Opened.Task;
            for (int i = state.Watchers.Count - 1; i >= 0; i--)
            {
                if (state.Watchers[i].Count <= state.Waiting)
                {
                    state.Watchers[i].Signal.TrySetResult();
                    state.Watchers.RemoveAt(i);
                }
            }
        }

        try
        {
            await opened.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (_lock)
            {
                // Release already zeroed the count of everyone it let through; a cancelled holder leaves by itself.
                if (!opened.IsCompleted)
                {
                    state.Waiting--;
                }
            }
        }
    }

    private SimulatorGate GetOrAdd(string gate)
    {
        if (!_gates.TryGetValue(gate, out var state))
        {
            state = new SimulatorGate();
            _gates.Add(gate, state);
        }

        return state;
    }
}
