using Tollgate.Audit;
using Tollgate.Metrics;
using Tollgate.Proxy;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// The first and the last step: a request is counted in flight from its start, and whatever way it ends it becomes
/// exactly one audit record, queued to the ledger and counted in the metrics — a request that created a background
/// response, once the response has ended and been billed (<see cref="Background.BackgroundResponse"/>).
/// </summary>
internal sealed class AuditStep(LedgerWriter ledger, GatewayMetrics metrics, InFlightRequests inFlight)
{
    public void Begin()
    {
        inFlight.Enter();
        metrics.RequestStarted();
    }

    public void End(RequestContext context)
    {
        var record = context.ToRecord();
        if (context.Background is { } response)
        {
            response.Deliver(record);
        }
        else
        {
            ledger.Enqueue(record);
            metrics.RequestEnded(record);
        }

        inFlight.Exit();
    }
}
