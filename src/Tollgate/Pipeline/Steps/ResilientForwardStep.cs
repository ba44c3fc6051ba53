using Polly;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Resilience;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Steps 5 and 6 with upstream resilience around them: admit + forward, once per attempt. A request whose model has
/// no fallbacks and whose upstream has no breaker, retries or cool-down does not come here (<see cref="AppliesTo"/>):
/// the pipeline admits and forwards it once and it pays nothing more. Otherwise its candidates — the model, then its fallbacks in order, each skipped unless
/// the caller's plan includes it — are tried until one answers:
/// <list type="bullet">
/// <item>a candidate whose breaker is open or whose upstream cools down after a 429 is passed over before anything
/// is reserved; one whose upstream quota is used up is passed over at admission;</item>
/// <item>each attempt is admitted on its own (its own reservation and lease, at its own model's prices), is billed
/// as its upstream billed it, and settles before the next one starts; only the first admitted attempt counts as the
/// caller's request;</item>
/// <item>a failure known to be unbilled (<see cref="AttemptResult.Failed"/>) is retried on the same upstream where
/// configured (Polly's retry), then the next candidate is tried; a 429 goes to the next candidate at once; any other
/// failure ends the request;</item>
/// <item>all of this happens before any byte of an answer reached the caller: once an answer is relayed, nothing is
/// retried.</item>
/// </list>
/// When no candidate answers, the caller gets the first candidate's error (a fallback refused on budget, or failing,
/// never replaces it); the audit record lists every attempt.
/// </summary>
internal sealed class ResilientForwardStep(AdmitStep admit, CacheLookupStep cache, ForwardStep forward, UpstreamResilienceRegistry registry, TimeProvider time)
{
    /// <summary>The response header naming the model that answered, sent only when a fallback did.</summary>
    public const string FallbackHeader = "x-tollgate-fallback-model";

    /// <summary>
    /// Whether the request needs this step: its model has fallbacks, or its upstream a breaker, retries or a
    /// cool-down. Otherwise the pipeline admits and forwards once, as if this step did not exist.
    /// </summary>
    public static bool AppliesTo(RequestContext context)
    {
        var model = context.Model!;
        return context.Config.FallbacksOf(model).Count > 0 || context.Config.Options.Upstreams[model.UpstreamName].HasResilience;
    }

    /// <summary>Admits and forwards the request's attempts until one answers; the first candidate's error when none does.</summary>
    public ValueTask<(UpstreamCall? Call, GatewayError? Error)> RunAsync(RequestContext context) =>
        RunResilientAsync(context, context.Model!, context.Config.FallbacksOf(context.Model!));

    private async ValueTask<(UpstreamCall? Call, GatewayError? Error)> RunResilientAsync(RequestContext context, ModelDefinition primary,
        IReadOnlyList<ModelDefinition> fallbacks)
    {
        GatewayError? original = null;
        for (int i = 0; i <= fallbacks.Count; i++)
        {
            var candidate = i == 0 ? primary : fallbacks[i - 1];
            if (i > 0 && !context.Config.IsAllowed(context.Caller!.Plan, candidate))
            {
                continue;
            }

            context.Model = candidate;
            var result = await RunCandidateAsync(context, candidate, lookUp: i == 0).ConfigureAwait(false);
            if (result.End == AttemptEnd.Cached)
            {
                // The response cache answered (or the caller left while waiting for the identical request's answer).
                return (null, result.Error);
            }

            if (result.Call is { } call)
            {
                if (i > 0)
                {
                    context.AnsweredByFallback = true;
                    context.Http.Response.Headers[FallbackHeader] = candidate.Name;
                }

                return (call, null);
            }

            var error = result.Error!;
            if (i == 0)
            {
                original = error;
                if (!result.TriesNext)
                {
                    return (null, error);
                }
            }
            else if (result.End == AttemptEnd.Refused)
            {
                // A fallback refused on the caller's own limits (a budget at its prices): passed over, never reported.
                context.PassOver(candidate, error.Code);
            }

            if (context.ClientAborted)
            {
                context.Model = primary;
                return (null, error);
            }

            if (i > 0 && result.End == AttemptEnd.Final)
            {
                break;
            }
        }

        context.Model = primary;
        return (null, original);
    }

    private ValueTask<AttemptResult> RunCandidateAsync(RequestContext context, ModelDefinition candidate, bool lookUp)
    {
        var resilience = registry.Get(candidate.UpstreamName, context.Config.Options.Upstreams[candidate.UpstreamName]);
        return resilience?.Retry is { } retry ? RetryAsync(retry, context, candidate, resilience, lookUp) : AttemptAsync(context, candidate, resilience, lookUp);
    }

    // Polly's retry around whole attempts, so that each retry is admitted (reserved, leased) on its own.
    private async ValueTask<AttemptResult> RetryAsync(ResiliencePipeline<AttemptResult> retry, RequestContext context, ModelDefinition candidate,
        UpstreamResilience resilience, bool lookUp)
    {
        var pooled = ResilienceContextPool.Shared.Get(context.Http.RequestAborted);
        try
        {
            var outcome = await retry.ExecuteOutcomeAsync(
                static async (_, s) =>
                {
                    try
                    {
                        return Outcome.FromResult(await s.Self.AttemptAsync(s.Context, s.Candidate, s.Resilience, s.LookUp).ConfigureAwait(false));
                    }
                    catch (Exception e)
                    {
                        return Outcome.FromException<AttemptResult>(e);
                    }
                },
                pooled,
                (Self: this, Context: context, Candidate: candidate, Resilience: resilience, LookUp: lookUp)).ConfigureAwait(false);
            if (outcome.Exception is OperationCanceledException && context.Http.RequestAborted.IsCancellationRequested)
            {
                // The caller left while a retry waited: the attempts so far are settled and recorded.
                context.ClientAborted = true;
                return new AttemptResult(AttemptEnd.Final, null,
                    new GatewayError(499, ErrorTypes.InvalidRequest, AuditReasons.ClientAborted, "The caller closed the connection."));
            }

            outcome.ThrowIfException();
            return outcome.Result;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(pooled);
        }
    }

    private async ValueTask<AttemptResult> AttemptAsync(RequestContext context, ModelDefinition candidate, UpstreamResilience? resilience, bool lookUp)
    {
        // The breaker and the cool-down are checked before anything is reserved.
        if (resilience?.Blocked(candidate, time.GetUtcNow()) is { } blocked)
        {
            context.PassOver(candidate, blocked.Code);
            return AttemptResult.PassedOver(blocked);
        }

        bool wasAdmitted = context.Admitted;
        var refusal = await admit.RunAsync(context).ConfigureAwait(false);
        if (refusal is not null)
        {
            if (refusal.Code == ErrorCodes.UpstreamQuotaExceeded)
            {
                context.PassOver(candidate, refusal.Code);
                return AttemptResult.PassedOver(refusal);
            }

            return AttemptResult.Refused(refusal);
        }

        // The response cache, on the model's own attempts only (a fallback's answer is never the model's): after the
        // admission (limits apply to hits), before the breaker and the call; it looks up once per request.
        if (lookUp && CacheLookupStep.AppliesTo(context) && await cache.RunAsync(context).ConfigureAwait(false) is { Done: true } cached)
        {
            return AttemptResult.Cached(cached.Refusal);
        }

        AttemptResult result;
        if (resilience?.Breaker is { } breaker)
        {
            if (await breaker.ExecuteAsync(static s => s.Self.ForwardAsync(s.Context), (Self: this, Context: context)).ConfigureAwait(false) is not { } ran)
            {
                // The breaker opened, or another request is its half-open probe, since the check above: nothing was
                // called, so the reservation is undone (its lease goes with the request's record).
                var released = context.Reservation!;
                await released.ReleaseAsync().ConfigureAwait(false);
                context.Reservation = null;
                context.Admitted = wasAdmitted;
                if (!wasAdmitted)
                {
                    context.Decision = Decisions.Refused;
                }

                context.PassOver(candidate, ErrorCodes.UpstreamUnavailable, released.Admission.Reservation.Id);
                return AttemptResult.PassedOver(resilience.Blocked(candidate, time.GetUtcNow())
                    ?? new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.UpstreamUnavailable,
                        $"The upstream for '{candidate.Name}' is failing; requests to it are paused.") { RetryAfter = UpstreamBreaker.ProbeWait });
            }

            result = ran;
        }
        else
        {
            result = await ForwardAsync(context).ConfigureAwait(false);
        }

        if (result.Call is null)
        {
            if (result.End == AttemptEnd.RateLimited)
            {
                resilience?.CoolDown(result.Error!, time.GetUtcNow());
            }

            // This attempt is over: settle it to its bill now, so the next one starts from up-to-date counters.
            await context.Reservation!.SettleAsync().ConfigureAwait(false);
            context.EndAttempt(result.Error!.Code);
        }

        return result;
    }

    private async ValueTask<AttemptResult> ForwardAsync(RequestContext context)
    {
        var (call, error) = await forward.RunAsync(context).ConfigureAwait(false);
        return call is not null ? AttemptResult.Answered(call) : AttemptResult.Failed(context, error!);
    }
}
