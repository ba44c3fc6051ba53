using Tollgate.Pricing;

namespace Tollgate.Limits;

/// <summary>What one request may consume, as a function of its output cap.</summary>
/// <param name="InputTokens">Input tokens counted from the request.</param>
/// <param name="OutputMultiplier">Output tokens per unit of output cap (choices × best_of; 0 for embeddings).</param>
/// <param name="Price">The model's prices.</param>
/// <param name="FollowUp">
/// Whether this is a later attempt (a retry or a fallback) of a request an earlier attempt already counted: the
/// caller's request-count limits are not charged again (one caller request counts one request), while the upstream's
/// own request quota is (every attempt is a call to it).
/// </param>
public readonly record struct RequestDemand(long InputTokens, long OutputMultiplier, ModelPrice Price, bool FollowUp = false)
{
    /// <summary>Fees that do not depend on tokens (the hosted tool calls reserved), in nano-dollars.</summary>
    public long FeeNanos { get; init; }

    /// <summary>
    /// The worst-case cost, in nano-dollars, of an output cap of <paramref name="outputCap"/> (input priced as
    /// uncached), fees included.
    /// </summary>
    public long WorstCostNanos(long outputCap) =>
        Saturating.Add(Price.CostNanos(new TokenUsage(InputTokens, 0, outputCap * OutputMultiplier, 0)), FeeNanos);
}
