namespace Tollgate.Shedding;

/// <summary>How a request's wait for one of the gateway's concurrency slots ended (<see cref="FairScheduler.WaitAsync"/>).</summary>
public enum SlotOutcome
{
    /// <summary>The request holds a slot and must give it back with <see cref="FairScheduler.Release"/> exactly once, when it ends.</summary>
    Acquired,

    /// <summary>
    /// The queue was full: the request was turned away on arrival, or its place went to a tenant holding less than
    /// its share of the queue.
    /// </summary>
    QueueFull,

    /// <summary>No slot came free within the queue's longest wait.</summary>
    TimedOut,

    /// <summary>The wait was cancelled (the caller left, or the gateway is stopping) before a slot came free.</summary>
    Canceled,
}
