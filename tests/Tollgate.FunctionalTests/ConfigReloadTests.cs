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
        await File.WriteAllTextAsync(_gateway.ConfigPath, root.ToJsonString());
        await PollAsync(async () => await StatusAsync(key) == HttpStatusCode.OK);

        int rejected = monitor.RejectedReloads;
        root["Tollgate"]!["Models"]!["sim-large"]!["Prices"]!["Input"] = 0.0000001m;
        root["Tollgate"]!["Plans"]!["free"]!["Models"] = new JsonArray("sim-mini");
        await File.WriteAllTextAsync(_gateway.ConfigPath, root.ToJsonString());
        await PollAsync(() => Task.FromResult(_gateway.Logs.Lines.Any(l => l.Contains("Tollgate:Models:sim-large:Prices:Input", StringComparison.Ordinal))));

        Assert.True(monitor.RejectedReloads > rejected);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key));
    }

    [Fact]
    public async Task Reload_MalformedJson_KeepsServingWithLastGoodConfig()
    {
        string key = await _gateway.CreateKeyAsync(plan: "basic");
        var monitor = _gateway.App.Services.GetRequiredService<GatewayConfigMonitor>();
        int rejected = monitor.RejectedReloads;

        await File.WriteAllTextAsync(_gateway.ConfigPath, "{ \"Tollgate\": { ");
        await PollAsync(() => Task.FromResult(monitor.RejectedReloads > rejected));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key));
    }

    [Fact]
    public async Task Reload_StricterRepetitionThreshold_ChangesTheVerdictOfTheNextRequest()
    {
        // 120 distinct words, five times over: a compression ratio of about 5, under the default threshold of 8.
        string text = string.Join(' ', Enumerable.Repeat(string.Join(' ', Enumerable.Range(0, 120).Select(i => $"w{i * 7919 % 100_003}")), 5));
        string body = $$"""{"model":"sim-mini","max_tokens":5,"messages":[{"role":"user","content":"{{text}}"}]}""";
        string key = await _gateway.CreateKeyAsync(plan: "basic");
        using (var accepted = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body)))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        var root = JsonNode.Parse(await File.ReadAllTextAsync(_gateway.ConfigPath))!;
        root["Tollgate"]!["Repetition"] = new JsonObject { ["MaxCompressionRatio"] = 3 };
        await File.WriteAllTextAsync(_gateway.ConfigPath, root.ToJsonString());
        var monitor = _gateway.App.Services.GetRequiredService<GatewayConfigMonitor>();
        await PollAsync(() => Task.FromResult(monitor.Current.Options.Repetition.MaxCompressionRatio == 3));

        using var refused = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("repetitive_input", (await ChatCompletionTests.ErrorAsync(refused)).Code);
    }

    // The file watcher reports changes asynchronously: poll for the outcome, bounded.
    private static async Task PollAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 400; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(25);
        }

        Assert.Fail("The configuration change was not observed within 10 s.");
    }

    private async Task<HttpStatusCode> StatusAsync(string key)
    {
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-large","messages":[{"role":"user","content":"x"}]}"""));
        return response.StatusCode;
    }
}
