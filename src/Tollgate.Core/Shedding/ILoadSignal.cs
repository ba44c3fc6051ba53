namespace Tollgate.Shedding;

/// <summary>
/// The gateway's own load, read by <see cref="FairScheduler"/> on every request when shedding thresholds are configured,
/// so reading it must be cheap: an implementation measures now and then (the host's samples the process at most once
/// a second) and returns its last measurement. Tests drive the queue with one they set by hand.
/// </summary>
public interface ILoadSignal
{
    /// <summary>The last measurement.</summary>
    LoadSample Current { get; }
}
