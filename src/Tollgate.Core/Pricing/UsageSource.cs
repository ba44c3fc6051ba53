namespace Tollgate.Pricing;

/// <summary>Where a request's usage figures came from.</summary>
public enum UsageSource
{
    /// <summary>Nothing was consumed (refused before the upstream, or the upstream failed without billing).</summary>
    None = 0,

    /// <summary>The upstream's own <c>usage</c> object.</summary>
    Reported = 1,

    /// <summary>Counted by Tollgate with the model's tokenizer because the upstream sent no usage (or the stream was cut).</summary>
    Estimated = 2,

    /// <summary>
    /// The gateway crashed while the request was in flight: it is billed at its reservation (the worst case), so a
    /// crash never frees budget that may have been spent.
    /// </summary>
    Reserved = 3,
}
