using Tollgate.Configuration;
using Tollgate.Protocol;

namespace Tollgate.Tokenization;

/// <summary>
/// Tollgate's own count of a request's usage, used when the upstream reports none or the response was cut:
/// the input counted from the request, the output counted from what the upstream actually sent, both with the
/// model's tokenizer. Never zero output for generated text.
/// </summary>
public static class UsageEstimator
{
    /// <summary>
    /// Counts the request's input. Counting stops once it passes <paramref name="stopAfter"/> (the plan's or the
    /// model's input cap): a request over the cap is refused, and the gateway's CPU is not spent on counting the rest.
    /// Document blocks that cannot be counted (PDFs) are reserved at the model's <c>DocumentTokens</c> each.
    /// </summary>
    public static long CountInput(ModelRequest request, ModelDefinition model, long stopAfter = long.MaxValue) =>
        Pricing.Saturating.Add(
            request.CountInput(TokenCounterRegistry.Shared.Get(model.Encoding, model.ApproximationMarginPercent), stopAfter),
            Pricing.Saturating.Multiply(request.DocumentBlocks, model.DocumentTokens ?? 0));

    /// <summary>Counts generated output with the model's tokenizer (its approximation margin included).</summary>
    public static long CountOutput(ModelDefinition model, string generated) =>
        TokenCounterRegistry.Shared.Get(model.Encoding, model.ApproximationMarginPercent).CountBounded(generated);
}
