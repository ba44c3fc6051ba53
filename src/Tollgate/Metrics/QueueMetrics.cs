using Prometheus;
using Tollgate.Shedding;

namespace Tollgate.Metrics;

/// <summary>
/// The shedding queue's metrics, in the gateway's registry: requests shed and why, time waited for a slot, and
/// (read at each scrape) slots held, requests waiting, and whether the load is over a threshold. Shed requests are
/// also counted in <c>tollgate_requests_total</c> under reason <c>overloaded</c>.
/// </summary>
internal sealed class QueueMetrics
{
    private static readonly double[] s_waitBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    private readonly Counter.Child _shedQueueFull;
    private readonly Counter.Child _shedTimedOut;
    private readonly Histogram.Child _waitAcquired;
    private readonly Histogram.Child _waitShed;
    private readonly Histogram.Child _waitLeft;

    public QueueMetrics(GatewayMetrics metrics, FairScheduler scheduler)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        var shed = factory.CreateCounter("tollgate_shed_total",
            "Requests refused 503 overloaded, by cause: queue_full (no place in the queue), queue_timeout (no slot within Gateway:MaxQueueWait).", ["cause"]);
        _shedQueueFull = shed.WithLabels("queue_full");
        _shedTimedOut = shed.WithLabels("queue_timeout");
        var wait = factory.CreateHistogram("tollgate_queue_wait_seconds",
            "Time requests that found no free slot spent in the queue, by outcome: acquired, shed, left (the caller or the gateway stopped).",
            new HistogramConfiguration { Buckets = s_waitBuckets, LabelNames = ["outcome"] });
        _waitAcquired = wait.WithLabels("acquired");
        _waitShed = wait.WithLabels("shed");
        _waitLeft = wait.WithLabels("left");
        var waiting = factory.CreateGauge("tollgate_queue_waiting", "Requests waiting for a concurrency slot now.");
        var inUse = factory.CreateGauge("tollgate_concurrency_slots_in_use", "Concurrency slots (Global:MaxConcurrentRequests) held now.");
        var overloaded = factory.CreateGauge("tollgate_overloaded", "1 while the process's load reaches a Gateway:Shedding threshold, else 0.");
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            waiting.Set(scheduler.Waiting);
            inUse.Set(scheduler.InUse);
            overloaded.Set(scheduler.Overloaded ? 1 : 0);
        });
    }

    /// <summary>A request that found no free slot at once stopped waiting, after <paramref name="waited"/>.</summary>
    public void Waited(SlotOutcome outcome, TimeSpan waited)
    {
        double seconds = waited.TotalSeconds;
        switch (outcome)
        {
            case SlotOutcome.Acquired:
                _waitAcquired.Observe(seconds);
                break;
            case SlotOutcome.QueueFull:
                _shedQueueFull.Inc();
                _waitShed.Observe(seconds);
                break;
            case SlotOutcome.TimedOut:
                _shedTimedOut.Inc();
                _waitShed.Observe(seconds);
                break;
            default:
                _waitLeft.Observe(seconds);
                break;
        }
    }
}
