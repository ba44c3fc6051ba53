using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Limits;
using Tollgate.Simulator;

namespace Tollgate.FunctionalTests.Resilience;

/// <summary>
/// The gateway the resilience tests run: the default simulated upstream (<c>simulator</c>, serving <c>sim-mini</c>
/// and <c>sim-large</c>) and a second one, <c>backup</c>, serving <c>sim-backup</c> at twice sim-mini's prices; the
/// basic plan includes sim-backup, the <c>mini-only</c> plan does not.
/// </summary>
internal static class ResilienceSetup
{
    public const long BackupInputMicros = 300_000;
    public const long BackupOutputMicros = 1_200_000;

    public static Task<TestGateway> StartAsync(Action<JsonObject> configure, TimeProvider? time = null) => TestGateway.StartAsync(c =>
    {
        c["Upstreams"]!["backup"] = new JsonObject
        {
            ["Kind"] = "simulator",
            ["Simulator"] = new JsonObject { ["TimeToFirstToken"] = "00:00:00", ["TimePerToken"] = "00:00:00" },
        };
        c["Models"]!["sim-backup"] = new JsonObject
        {
            ["Upstream"] = "backup",
            ["Prices"] = new JsonObject { ["Input"] = 0.3, ["Output"] = 1.2 },
            ["ContextWindow"] = 128000,
            ["MaxOutputTokens"] = 16384,
        };
        c["Plans"]!["basic"]!["Models"]!.AsArray().Add("sim-backup");
        c["Plans"]!["mini-only"] = new JsonObject { ["Models"] = new JsonArray("sim-mini"), ["RequestsPerMinute"] = 100 };
        configure(c);
    }, time);

    /// <summary>Sets <paramref name="settings"/> on upstream <paramref name="upstream"/>.</summary>
    public static void Upstream(JsonObject tollgate, string upstream, JsonObject settings)
    {
        var target = tollgate["Upstreams"]![upstream]!.AsObject();
        foreach (var (name, value) in settings.ToList())
        {
            settings.Remove(name);
            target[name] = value;
        }
    }

    public static void Fallbacks(JsonObject tollgate, string model, params string[] fallbacks) =>
        tollgate["Models"]![model]!["Fallbacks"] = new JsonArray([.. fallbacks.Select(f => JsonValue.Create(f))]);

    public static HttpRequestMessage Chat(string key, string content, string model = "sim-mini", bool stream = false, int maxTokens = 50)
    {
        string body = new JsonObject
        {
            ["model"] = model,
            ["max_tokens"] = maxTokens,
            ["stream"] = stream,
            ["stream_options"] = stream ? new JsonObject { ["include_usage"] = true } : null,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
        }.ToJsonString();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    public static SimulatorEngine Engine(this TestGateway gateway, string upstream) =>
        gateway.App.Services.GetRequiredService<SimulatorUpstreamHandlerFactory>().Engine(upstream);

    public static string RequestId(this HttpResponseMessage response) => response.Headers.GetValues("x-request-id").Single();

    /// <summary>Nothing is left held once the request's record is written: no reservation, no lease, no concurrency slot.</summary>
    public static async Task AssertNothingHeldAsync(this TestGateway gateway, string keyId)
    {
        await gateway.RequestsEndedAsync();
        Assert.Equal(0, gateway.Quotas.Outstanding);
        Assert.Empty(await gateway.App.Services.GetRequiredService<ILedgerStore>().ReadLeasesAsync(CancellationToken.None));
        var now = gateway.Time.GetUtcNow();
        foreach (var scope in new[] { new Scope(ScopeKind.Key, "k:" + keyId, "", TimeZoneInfo.Utc), new Scope(ScopeKind.Tenant, "t:acme", "", TimeZoneInfo.Utc), new Scope(ScopeKind.Global, "g", "", TimeZoneInfo.Utc) })
        {
            Assert.Equal(0, await gateway.Quotas.UsedAsync(new LimitCheck(scope, Metric.Concurrency, Window.Concurrent, 1, 1, 0), now, CancellationToken.None));
        }
    }

    /// <summary>The requests counted against the key in the current minute.</summary>
    public static ValueTask<long> RequestsCountedAsync(this TestGateway gateway, string keyId) =>
        gateway.Quotas.UsedAsync(new LimitCheck(new Scope(ScopeKind.Key, "k:" + keyId, "", TimeZoneInfo.Utc), Metric.Requests, Window.Minute, 1, 1, 0),
            gateway.Time.GetUtcNow(), CancellationToken.None);

    /// <summary>The bills of <paramref name="upstream"/>'s engine for the request.</summary>
    public static IReadOnlyList<SimulatorBill> Bills(this TestGateway gateway, string upstream, string requestId) =>
        [.. gateway.Engine(upstream).Billing.All.Where(b => b.ClientRequestId == requestId)];

    public static long Cost(long input, long output, long inputMicros, long outputMicros) => ((input * inputMicros) + (output * outputMicros) + 999) / 1000;
}
