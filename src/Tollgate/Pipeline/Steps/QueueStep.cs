using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Metrics;
using Tollgate.Protocol;
using Tollgate.Shedding;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 4½, before admission: one of the gateway's concurrency slots (<c>Global:MaxConcurrentRequests</c>), taken at
/// once when one is free and nobody waits, else waited for in the Core's <see cref="FairScheduler"/> by fair share
/// between tenants. A request that gets none — the queue is full, or its wait (<c>Gateway:MaxQueueWait</c>) ran
/// out — is shed: 503 <c>overloaded</c> with <c>Retry-After: 1</c>, having reserved nothing. The slot is held until the
/// request ends (<see cref="Leave"/>, from the pipeline's <c>finally</c>, or before a refusal is written), so a
/// request refused later by its own key's or tenant's limits gives it back at once.
/// </summary>
internal sealed class QueueStep : IDisposable
{
    /// <summary>How often the queue re-reads the configuration and the load signal when no request does.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan s_retryAfter = TimeSpan.FromSeconds(1);

    private readonly FairScheduler _scheduler;
    private readonly IGatewayConfigSource _config;
    private readonly ShutdownState _shutdown;
    private readonly QueueMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly ITimer _refresh;
    private volatile GatewayConfig? _applied;

    public QueueStep(FairScheduler scheduler, IGatewayConfigSource config, ShutdownState shutdown, QueueMetrics metrics, TimeProvider time)
    {
        _scheduler = scheduler;
        _config = config;
        _shutdown = shutdown;
        _metrics = metrics;
        _time = time;
        ApplyConfiguration();
        // A reload, or a load that falls, reaches the waiters even when no request arrives to notice it.
        _refresh = time.CreateTimer(static state => ((QueueStep)state!).Refresh(), this, RefreshInterval, RefreshInterval);
    }

    public ValueTask<GatewayError?> RunAsync(RequestContext context)
    {
        ApplyConfiguration();
        if (_scheduler.TryAcquire())
        {
            context.HoldsSlot = true;
            return ValueTask.FromResult<GatewayError?>(null);
        }

        return WaitAsync(context);
    }

    /// <summary>Gives the request's slot back, if it holds one: from the pipeline's <c>finally</c>, and before a refusal is written.</summary>
    public void Leave(RequestContext context)
    {
        if (context.HoldsSlot)
        {
            context.HoldsSlot = false;
            _scheduler.Release();
        }
    }

    public void Dispose() => _refresh.Dispose();

    private async ValueTask<GatewayError?> WaitAsync(RequestContext context)
    {
        string tenant = context.Caller!.Tenant;
        int weight = context.Config.TenantLimits(tenant).Weight;
        long started = _time.GetTimestamp();
        var aborted = context.Http.RequestAborted;
        SlotOutcome outcome;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted, _shutdown.HardStop))
        {
            outcome = await _scheduler.WaitAsync(tenant, weight, wait.Token).ConfigureAwait(false);
        }

        _metrics.Waited(outcome, _time.GetElapsedTime(started));
        switch (outcome)
        {
            case SlotOutcome.Acquired:
                context.HoldsSlot = true;
                return null;
            case SlotOutcome.Canceled when aborted.IsCancellationRequested:
                // The caller left while waiting: it is out of the queue, and nothing was reserved.
                context.ClientAborted = true;
                return new GatewayError(499, ErrorTypes.InvalidRequest, AuditReasons.ClientAborted, "The caller closed the connection.");
            case SlotOutcome.Canceled:
                return new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.ShuttingDown, "The gateway is shutting down; retry on another instance.");
            default:
                return Overloaded(outcome);
        }
    }

    private static GatewayError Overloaded(SlotOutcome outcome) =>
        new(503, ErrorTypes.Unavailable, ErrorCodes.Overloaded, outcome == SlotOutcome.TimedOut
            ? "The gateway is overloaded: no capacity came free in time. Retry shortly."
            : "The gateway is overloaded: too many requests are waiting. Retry shortly.")
        {
            RetryAfter = s_retryAfter,
        };

    private void Refresh()
    {
        ApplyConfiguration();
        _scheduler.Refresh();
    }

    // The queue follows the newest configuration (not the one a request started under, which may be older).
    private void ApplyConfiguration()
    {
        if (ReferenceEquals(_config.Current, _applied))
        {
            return;
        }

        lock (_lock)
        {
            var current = _config.Current;
            if (!ReferenceEquals(current, _applied))
            {
                _scheduler.Configure(QueueSettings.From(current.Options));
                _applied = current;
            }
        }
    }
}
