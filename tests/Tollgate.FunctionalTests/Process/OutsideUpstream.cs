using System.Text.Json.Nodes;

namespace Tollgate.FunctionalTests.Process;

/// <summary>
/// A gateway configuration whose model <see cref="Model"/> goes to a <c>tollgate simulate</c> process (an upstream of
/// kind <c>openai</c>): the upstream outlives the gateway, and a test controls its gates over HTTP.
/// </summary>
internal static class OutsideUpstream
{
    /// <summary>The model served by the outside upstream, priced as <c>sim-mini</c> and allowed on the <c>basic</c> plan.</summary>
    public const string Model = "ext-mini";

    /// <summary>Adds the upstream at <paramref name="address"/> and <see cref="Model"/> to <paramref name="tollgate"/>.</summary>
    public static void Configure(JsonNode tollgate, Uri address)
    {
        tollgate["Upstreams"]!["outside"] = new JsonObject { ["Kind"] = "openai", ["BaseUrl"] = new Uri(address, "/v1").ToString() };
        tollgate["Models"]![Model] = new JsonObject
        {
            ["Upstream"] = "outside",
            ["Prices"] = new JsonObject { ["Input"] = 0.15, ["CachedInput"] = 0.075, ["Output"] = 0.6 },
            ["ContextWindow"] = 128000,
            ["MaxOutputTokens"] = 16384,
            ["Encoding"] = "o200k_base",
        };
        tollgate["Plans"]!["basic"]!["Models"] = new JsonArray(Model);
    }
}
