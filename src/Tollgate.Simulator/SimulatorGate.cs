namespace Tollgate.Simulator;

/// <summary>The state of one named barrier gate. Guarded by the <see cref="SimulatorBarrier"/> lock.</summary>
internal sealed class SimulatorGate
{
    /// <summary>Whether the gate lets everyone through (until reset).</summary>
    public bool IsOpen { get; set; }

    /// <summary>Requests held at the gate now.</summary>
    public int Waiting { get; set; }

    /// <summary>Completes when the gate opens; replaced on reset.</summary>
    public TaskCompletionSource Opened { get; set; } = NewSignal();

    /// <summary>Callers of <see cref="SimulatorBarrier.WaitForWaitingAsync"/> not yet satisfied.</summary>
    public List<(int Count, TaskCompletionSource Signal)> Watchers { get; } = [];

    /// <summary>A signal whose awaiters never run inside the barrier lock.</summary>
    public static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
