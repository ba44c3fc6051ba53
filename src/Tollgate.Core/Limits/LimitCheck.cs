namespace Tollgate.Limits;

/// <summary>
/// One limit that applies to one request: a scope's counter and the amount the request would add to it. The amount
/// is linear in the output cap (<c>Fixed + PerOutputToken × output</c>), which lets admission clamp the output cap
/// to what every limit can still afford in the same atomic step. For <see cref="Metric.Spend"/> both parts are in
/// pico-dollars and the amount is rounded up to nano-dollars.
/// </summary>
/// <param name="Scope">The scope, e.g. <c>tenant acme</c>.</param>
/// <param name="Metric">What is counted.</param>
/// <param name="Window">Over which window.</param>
/// <param name="Limit">The most allowed (nano-dollars for spend).</param>
/// <param name="Fixed">The part of the amount that does not depend on the output cap.</param>
/// <param name="PerOutputToken">The part per output token of the cap.</param>
/// <param name="Shadow">Evaluated and counted, but never refuses.</param>
public sealed record LimitCheck(Scope Scope, Metric Metric, Window Window, long Limit, long Fixed, long PerOutputToken, bool Shadow = false)
{
    /// <summary>The amount for an output cap of <paramref name="outputTokens"/>, in the metric's unit.</summary>
    public long AmountFor(long outputTokens)
    {
        Int128 raw = (Int128)Fixed + (Int128)PerOutputToken * outputTokens;
        if (Metric == Metric.Spend)
        {
            raw = (raw + 999) / 1000;
        }

        return raw > long.MaxValue ? long.MaxValue : (long)raw;
    }

    /// <summary>The largest output cap whose amount fits in <paramref name="remaining"/>, or -1 if even zero does not fit.</summary>
    public long MaxOutputWithin(long remaining)
    {
        if (PerOutputToken == 0)
        {
            return AmountFor(0) <= remaining ? long.MaxValue : -1;
        }

        Int128 budget = Metric == Metric.Spend ? (Int128)remaining * 1000 : remaining;
        Int128 left = budget - Fixed;
        return left < 0 ? -1 : (long)Int128.Min(left / PerOutputToken, long.MaxValue);
    }
}
