using Tollgate.Audit;
using Tollgate.Limits;
using Tollgate.Protocol;
using Tollgate.Proxy;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 5: admission. Nothing runs unrecorded (a ledger that cannot be written refuses every request); the host
/// resolves what policy needs from HTTP (the task id, the source address), the Core's <see cref="AdmissionPolicy"/>
/// decides, and an admitted request's reservation gets its owner, <see cref="HeldReservation"/>, which makes it
/// durable (the lease) before anything is forwarded.
/// </summary>
/// <remarks>
/// Where what comes next goes: a shedding queue waits before this step; resilience (<see cref="ResilientForwardStep"/>)
/// wraps this step and the forward step, one admission per attempt (a later attempt is a follow-up: the caller's
/// request-count limits are not charged again); a response cache looks up after this step and before forwarding.
/// </remarks>
internal sealed class AdmitStep(AdmissionPolicy policy, IQuotaStore quotas, LedgerWriter ledger, ILedgerStore ledgerStore, TimeProvider time, ILogger<HeldReservation> logger)
{
    public async ValueTask<GatewayError?> RunAsync(RequestContext context)
    {
        if (!ledger.CanAccept)
        {
            return new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.LedgerUnavailable,
                "The gateway cannot record usage right now, so it is not accepting requests. Retry shortly.");
        }

        var caller = context.Caller!;
        var model = context.Model!;
        var request = context.Request!;
        context.SourceAddress = SourceAddress.Resolve(context.Http, context.Config.Options.SourceAddresses.TrustedProxies);
        var (task, taskHeader) = TaskHeaders.Resolve(context.Http.Request.Headers,
            context.Config.Options.Plans.TryGetValue(caller.Plan, out var plan) ? plan.TaskHeaders : null);
        context.Task = task;
        AdmissionOutcome outcome;
        try
        {
            outcome = await policy.DecideAsync(new AdmissionRequest(caller, request, model, context.Config, context.Task, context.SourceAddress, taskHeader, context.Admitted),
                time.GetUtcNow(), context.Http.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.Http.RequestAborted.IsCancellationRequested)
        {
            // The caller left before admission finished: nothing was reserved.
            context.ClientAborted = true;
            return new GatewayError(499, ErrorTypes.InvalidRequest, AuditReasons.ClientAborted, "The caller closed the connection.");
        }

        context.ShadowRefusals = outcome.ShadowRefusals;
        if (outcome.Admission is not { } admission)
        {
            return outcome.Refusal;
        }

        var held = new HeldReservation(admission, request, model, quotas, time, logger, context.RequestId);
        context.Reservation = held;
        var lease = new ReservationLease
        {
            Id = admission.Reservation.Id,
            Timestamp = context.Timestamp,
            RequestId = context.RequestId,
            Endpoint = context.Endpoint,
            KeyId = caller.KeyId,
            Tenant = caller.Tenant,
            User = caller.User,
            Model = model.Name,
            Upstream = model.UpstreamName,
            Task = context.Task,
            SourceAddress = context.SourceAddress,
            Usage = new Pricing.TokenUsage(admission.InputTokens, 0, admission.ReservedOutput, 0) { ToolCalls = admission.ToolCalls.Calls },
            CostNanos = admission.WorstCostNanos,
            ToolFeeNanos = admission.ToolCalls.FeeNanos,
        };
        if (await held.LeaseAsync(ledgerStore, ledger, lease).ConfigureAwait(false) is { } leaseError)
        {
            // Refused after all: it consumes nothing, not even a request (the owner released it).
            context.Reservation = null;
            return leaseError;
        }

        context.Protocol.WriteLimits(context.Http.Response.Headers, admission.Statuses, admission.Warning);
        context.Decision = Decisions.Allowed;
        context.Admitted = true;
        return null;
    }
}
