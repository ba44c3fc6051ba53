using Tollgate.Pricing;

namespace Tollgate.Limits;

/// <summary>What one request may consume, as a function of its output cap.</summary>
/// <param name="InputTokens">Input tokens counted from the request.</param>
/// <param name="OutputMultiplier">Output tokens per unit of output cap (choices × best_of; 0 for embeddings).</param>
/// <param name="Price">The model's prices.</param>
public readonly record struct RequestDemand(long InputTokens, long OutputMultiplier, ModelPrice Price)
{
    /// <summary>The worst-case cost, in nano-dollars, of an output cap of <paramref name="outputCap"/> (input priced as uncached).</summary>
    public long WorstCostNanos(long outputCap) => Price.CostNanos(new TokenUsage(InputTokens, 0, outputCap * OutputMultiplier, 0));
}
