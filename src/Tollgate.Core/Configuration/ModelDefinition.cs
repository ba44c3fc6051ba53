using Tollgate.Pricing;

namespace Tollgate.Configuration;

/// <summary>A validated model, ready for the request path.</summary>
public sealed record ModelDefinition(
    string Name,
    string UpstreamName,
    string UpstreamModel,
    string Type,
    ModelPrice Price,
    int ContextWindow,
    int MaxOutputTokens,
    string Encoding,
    int ApproximationMarginPercent,
    string OutputCapParameter = "max_completion_tokens",
    int StreamCutMarginPercent = 10)
{
    /// <summary>How far above the reservation Tollgate's own count of a stream may go before the stream is cut.</summary>
    public int StreamCutMarginPercent { get; init; } = StreamCutMarginPercent;

    /// <summary>Input tokens reserved per document block; null: document blocks are refused.</summary>
    public int? DocumentTokens { get; init; }

    /// <summary><c>anthropic-beta</c> values that change the model's prices and that its prices do not cover: refused.</summary>
    public IReadOnlySet<string> UncoveredPriceBetas { get; init; } = System.Collections.Frozen.FrozenSet<string>.Empty;

    /// <summary>Fees per call of hosted tools (Responses API); a hosted tool it does not price is refused.</summary>
    public ToolCallPrices ToolCallPrices { get; init; } = ToolCallPrices.None;

    /// <summary>Whether the model's answers may be cached (for plans that cache too).</summary>
    public bool CacheResponses { get; init; }

    /// <summary>
    /// The output count, by Tollgate's own tokenizer, above which a stream is certainly over
    /// <paramref name="reservedOutput"/>: the reservation plus <see cref="StreamCutMarginPercent"/> percent (and a few
    /// tokens for text split across events), so a stream that honoured the cap in the model's own count is never cut.
    /// </summary>
    /// <param name="reservedOutput">The output reserved for the request.</param>
    /// <returns>The count above which the stream is cut.</returns>
    public long StreamCutThreshold(long reservedOutput) =>
        Pricing.Saturating.Add(Pricing.Saturating.Add(reservedOutput, Pricing.Saturating.Multiply(reservedOutput, StreamCutMarginPercent) / 100), 8);
}
