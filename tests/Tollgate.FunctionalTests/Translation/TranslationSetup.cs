using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Simulator;

namespace Tollgate.FunctionalTests.Translation;

/// <summary>
/// Simulated upstreams that speak one API only, so that the gateway translates: <c>chat-only</c> (chat, completions,
/// embeddings; model <c>claude-over-chat</c>, priced as <c>sim-claude</c>) for Messages callers, and
/// <c>messages-only</c> (model <c>claude-over-messages</c>, priced as <c>sim-claude</c>) for chat callers.
/// </summary>
internal static class TranslationSetup
{
    public const string ChatOnly = "chat-only";
    public const string MessagesOnly = "messages-only";
    public const string OverChat = "claude-over-chat";
    public const string OverMessages = "claude-over-messages";

    public static void Configure(JsonObject c)
    {
        c["Upstreams"]![ChatOnly] = Upstream("chat", "completions", "embeddings");
        c["Upstreams"]![MessagesOnly] = Upstream("messages");
        c["Models"]![OverChat] = Model(ChatOnly);
        c["Models"]![OverMessages] = Model(MessagesOnly);
        c["Plans"]!["translated"] = new JsonObject
        {
            ["Models"] = new JsonArray("*"),
            ["MaxOutputTokens"] = 4096,
            ["DefaultMaxOutputTokens"] = 1024,
        };
    }

    /// <summary>The simulator behind upstream <paramref name="name"/>: its bills are the truth.</summary>
    public static SimulatorEngine Engine(TestGateway gateway, string name) =>
        gateway.App.Services.GetRequiredService<SimulatorUpstreamHandlerFactory>().Engine(name);

    private static JsonObject Upstream(params string[] apis) => new()
    {
        ["Kind"] = "simulator",
        ["Apis"] = new JsonArray([.. apis.Select(a => JsonValue.Create(a))]),
        ["Simulator"] = new JsonObject { ["TimeToFirstToken"] = "00:00:00", ["TimePerToken"] = "00:00:00" },
    };

    private static JsonObject Model(string upstream) => new()
    {
        ["Upstream"] = upstream,
        ["Prices"] = new JsonObject { ["Input"] = 3.0, ["CachedInput"] = 0.3, ["CacheWrite5m"] = 3.75, ["CacheWrite1h"] = 6.0, ["Output"] = 15.0 },
        ["ContextWindow"] = 200000,
        ["MaxOutputTokens"] = 64000,
        ["Encoding"] = "approximate",
    };
}
