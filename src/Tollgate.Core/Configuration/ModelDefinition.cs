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
    string OutputCapParameter = "max_completion_tokens");
