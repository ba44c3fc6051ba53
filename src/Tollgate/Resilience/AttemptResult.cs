using Tollgate.Pipeline;
using Tollgate.Protocol;

namespace Tollgate.Resilience;

/// <summary>How one attempt of a request at one upstream ended, which decides what the request does next.</summary>
internal enum AttemptEnd
{
    /// <summary>The upstream answered with a success status: the answer is relayed, nothing more is tried.</summary>
    Answered,

    /// <summary>The candidate was passed over before its call: its breaker is open, it cools down after a 429, or its quota is used up. Nothing was billed; the next candidate is tried.</summary>
    PassedOver,

    /// <summary>Admission refused the attempt on the caller's own limits (or the request's shape): nothing was reserved.</summary>
    Refused,

    /// <summary>The call failed in a way known to be unbilled (connect failure billed nothing, a 500, 502 or 503): retried where configured, then the next candidate.</summary>
    Retryable,

    /// <summary>The upstream answered 429: not retried on the same upstream (it cools down, where configured); the next candidate is tried.</summary>
    RateLimited,

    /// <summary>Any other failure (a timeout or reset the provider may have billed, a 4xx, the caller leaving): nothing more is tried.</summary>
    Final,

    /// <summary>The response cache answered the request (or its caller left while waiting for an identical request's answer): nothing more is tried.</summary>
    Cached,
}

/// <summary>One attempt's outcome: the answer, or the error with how the request goes on.</summary>
/// <param name="End">How the attempt ended.</param>
/// <param name="Call">The answer, when <see cref="AttemptEnd.Answered"/>.</param>
/// <param name="Error">The refusal or failure otherwise.</param>
/// <param name="BreakerFailure">Whether the outcome counts as a failure of the upstream for its circuit breaker.</param>
internal readonly record struct AttemptResult(AttemptEnd End, UpstreamCall? Call, GatewayError? Error, bool BreakerFailure = false)
{
    /// <summary>Whether the next candidate (a fallback) is tried after this outcome.</summary>
    public bool TriesNext => End is AttemptEnd.PassedOver or AttemptEnd.Retryable or AttemptEnd.RateLimited;

    public static AttemptResult Answered(UpstreamCall call) => new(AttemptEnd.Answered, call, null);

    public static AttemptResult PassedOver(GatewayError error) => new(AttemptEnd.PassedOver, null, error);

    public static AttemptResult Refused(GatewayError error) => new(AttemptEnd.Refused, null, error);

    /// <summary>The response cache ended the request: answered, or with <paramref name="refusal"/> when its caller left.</summary>
    public static AttemptResult Cached(GatewayError? refusal) => new(AttemptEnd.Cached, null, refusal);

    /// <summary>
    /// Classifies a failed call by what the forward step found out. The rule for "known to be unbilled": the request
    /// never left (a connect failure whose upstream bills nothing for it), or the upstream answered with headers and a
    /// 429, 500, 502 or 503 status (providers bill no error answer). A timeout or reset before the headers, a 504, or
    /// a body that broke may have been generated and billed, so it is never retried.
    /// </summary>
    public static AttemptResult Failed(RequestContext context, GatewayError error)
    {
        var held = context.Reservation!;
        bool unbilled = held.CostNanos == 0 && held.Usage.TotalTokens == 0;
        if (context.ClientAborted || error.Status == 499)
        {
            return new(AttemptEnd.Final, null, error);
        }

        switch (held.Outcome)
        {
            case Configuration.UnknownOutcome.ConnectFailure:
                return new(unbilled ? AttemptEnd.Retryable : AttemptEnd.Final, null, error, BreakerFailure: true);
            case Configuration.UnknownOutcome.TimeoutBeforeHeaders or Configuration.UnknownOutcome.ResetBeforeHeaders:
                return new(AttemptEnd.Final, null, error, BreakerFailure: true);
        }

        return context.UpstreamStatus switch
        {
            429 => new(AttemptEnd.RateLimited, null, error),
            500 or 502 or 503 => new(unbilled ? AttemptEnd.Retryable : AttemptEnd.Final, null, error, BreakerFailure: true),
            >= 500 => new(AttemptEnd.Final, null, error, BreakerFailure: true),
            _ => new(AttemptEnd.Final, null, error),
        };
    }
}
