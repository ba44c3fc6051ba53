using System.Text.Json.Nodes;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// The gateway the fuzz tests run: plan <c>fuzz</c> (every model, concurrency counted at every scope so a leaked slot
/// shows) and, given a fake upstream, model <c>fuzz-chat</c> served by it (as an upstream of kind <c>openai</c>, or
/// <c>anthropic</c> for Messages replies).
/// </summary>
internal static class FuzzGateway
{
    public const long ContextWindow = 8192;

    public static Task<TestGateway> StartAsync(FakeOpenAIUpstream? upstream = null, string kind = "openai") => TestGateway.StartAsync(c =>
    {
        if (upstream is not null)
        {
            c["Upstreams"]!["fake"] = new JsonObject { ["Kind"] = kind, ["BaseUrl"] = upstream.BaseUrl };
            c["Models"]!["fuzz-chat"] = new JsonObject
            {
                ["Upstream"] = "fake",
                ["Prices"] = new JsonObject { ["Input"] = 1.0, ["CachedInput"] = 0.5, ["Output"] = 2.0 },
                ["ContextWindow"] = ContextWindow,
                ["MaxOutputTokens"] = 1024,
            };
        }

        c["Plans"]!["fuzz"] = new JsonObject { ["Models"] = new JsonArray("*"), ["MaxConcurrentRequests"] = 64 };
        c["TenantDefaults"] = new JsonObject { ["MaxConcurrentRequests"] = 64 };
        c["Global"] = new JsonObject { ["MaxConcurrentRequests"] = 1024 };
    });
}
