using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Limits;
using Tollgate.Proxy;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>What a gateway must still be after a fuzz run: ready, serving, and holding no reservation, lease or slot.</summary>
internal static class GatewayHealth
{
    /// <summary>Completes when every request has ended (its audit record queued and its reservation settled).</summary>
    public static Task DrainAsync(TestGateway gateway) =>
        gateway.App.Services.GetRequiredService<InFlightRequests>().WaitForDrainAsync(TimeSpan.FromSeconds(30), TimeProvider.System);

    /// <summary>Records one failure per broken health property into <paramref name="failures"/>.</summary>
    public static async Task CheckAsync(TestGateway gateway, FuzzFailures failures, string key, string keyId, string tenant, string user)
    {
        await DrainAsync(gateway);
        int inFlight = gateway.App.Services.GetRequiredService<InFlightRequests>().Count;
        failures.Check(inFlight == 0, "health: requests still in flight", $"{inFlight} in flight 30 s after the last response");

        using var ready = await gateway.Http.GetAsync("/readyz");
        failures.Check(ready.StatusCode == HttpStatusCode.OK, "health: /readyz", $"/readyz answered {(int)ready.StatusCode}");

        failures.Check(gateway.Quotas.Outstanding == 0, "health: reservations left", $"{gateway.Quotas.Outstanding} reservations outstanding");
        var leases = await gateway.App.Services.GetRequiredService<ILedgerStore>().ReadLeasesAsync(CancellationToken.None);
        failures.Check(leases.Count == 0, "health: leases left", $"{leases.Count} leases left, e.g. {(leases.Count > 0 ? leases[0].RequestId : "")}");
        var now = TimeProvider.System.GetUtcNow();
        foreach (var scope in new[]
        {
            new Scope(ScopeKind.Key, "k:" + keyId, "key", TimeZoneInfo.Utc),
            new Scope(ScopeKind.User, "u:" + tenant + "/" + user, "user", TimeZoneInfo.Utc),
            new Scope(ScopeKind.Tenant, "t:" + tenant, "tenant", TimeZoneInfo.Utc),
            new Scope(ScopeKind.Global, "g", "gateway", TimeZoneInfo.Utc),
        })
        {
            long used = await gateway.Quotas.UsedAsync(new LimitCheck(scope, Metric.Concurrency, Window.Concurrent, 1, 0, 0), now, CancellationToken.None);
            failures.Check(used == 0, "health: concurrency slots left", $"{scope.Id}: {used} slots held");
        }

        using var normal = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","max_tokens":8,"messages":[{"role":"user","content":"Hello after the fuzz"}]}"""));
        failures.Check(normal.StatusCode == HttpStatusCode.OK, "health: normal request", $"a normal request answered {(int)normal.StatusCode}: {await normal.Content.ReadAsStringAsync()}");
    }
}
