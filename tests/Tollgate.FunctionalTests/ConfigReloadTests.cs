using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Configuration;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>The config file is watched: a valid change applies to the next request, an invalid one is refused and logged.</summary>
public sealed class ConfigReloadTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Reload_ValidThenInvalid_AppliesFirstKeepsItOnSecond()
    {
        string key = await _gateway.CreateKeyAsync(plan: "free");
        var monitor = _gateway.App.Services.GetRequiredService<GatewayConfigMonitor>();
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(key));

        var root = JsonNode.Parse(await File.ReadAllTextAsync(_gateway.ConfigPath))!;
        root["Tollgate"]!["Plans"]!["free"]!["Models"] = new JsonArray("sim-mini", "sim-large");
        await ReloadAsync(monitor, root, expectApplied: true);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key));

        root["Tollgate"]!["Models"]!["sim-large"]!["Prices"]!["Input"] = 0.0000001m;
        root["Tollgate"]!["Plans"]!["free"]!["Models"] = new JsonArray("sim-mini");
        await ReloadAsync(monitor, root, expectApplied: false);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key));
        Assert.Contains(_gateway.Logs.Lines, l => l.Contains("Tollgate:Models:sim-large:Prices:Input", StringComparison.Ordinal));
    }

    private async Task ReloadAsync(GatewayConfigMonitor monitor, JsonNode root, bool expectApplied)
    {
        var before = monitor.Current;
        int rejected = monitor.RejectedReloads;
        await File.WriteAllTextAsync(_gateway.ConfigPath, root.ToJsonString());
        // The file watcher reports the change asynchronously; wait for it to be handled (bounded).
        for (int i = 0; i < 400 && monitor.Current == before && monitor.RejectedReloads == rejected; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(expectApplied, monitor.Current != before);
        Assert.Equal(expectApplied ? rejected : rejected + 1, monitor.RejectedReloads);
    }

    private async Task<HttpStatusCode> StatusAsync(string key)
    {
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-large","messages":[{"role":"user","content":"x"}]}"""));
        return response.StatusCode;
    }
}
