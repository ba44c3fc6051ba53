using Tollgate.Configuration;

namespace Tollgate.Core.Tests.Configuration;

/// <summary>Configurations for tests.</summary>
internal static class TestOptions
{
    /// <summary>A valid configuration shaped like the shipped defaults.</summary>
    public static TollgateOptions Valid() => new()
    {
        Upstreams = new(StringComparer.Ordinal)
        {
            ["simulator"] = new() { Kind = UpstreamKinds.Simulator },
            ["openai"] = new() { Kind = UpstreamKinds.OpenAI, BaseUrl = "https://api.openai.com/v1", ApiKeyEnv = "OPENAI_API_KEY" },
        },
        Models = new(StringComparer.Ordinal)
        {
            ["sim-mini"] = new()
            {
                Aliases = ["sim-mini-latest"],
                Upstream = "simulator",
                Prices = new() { Input = 0.15m, CachedInput = 0.075m, Output = 0.60m },
            },
            ["gpt-large"] = new()
            {
                Upstream = "openai",
                UpstreamModel = "gpt-large-2025-01-01",
                Prices = new() { Input = 15m, Output = 60m },
                ContextWindow = 200_000,
                MaxOutputTokens = 32_768,
            },
            ["sim-embed"] = new()
            {
                Upstream = "simulator",
                Type = ModelTypes.Embedding,
                Prices = new() { Input = 0.02m, Output = 0m },
                ContextWindow = 8192,
                MaxOutputTokens = 1,
                Encoding = "cl100k_base",
            },
        },
        Plans = new(StringComparer.Ordinal)
        {
            ["free"] = new() { Models = ["sim-mini-latest"] },
            ["basic"] = new() { Models = ["sim-mini", "gpt-large"] },
            ["premium"] = new() { Models = ["*"] },
        },
    };
}
