using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Tollgate.FunctionalTests.Process;

/// <summary>
/// A background response outlives the gateway that created it: the simulated upstream runs as its own process
/// (<c>tollgate simulate</c>, an upstream of kind <c>openai</c>), the gateway is killed (SIGKILL) while the response
/// runs, and the restarted gateway holds its reservation again, resumes polling, and bills it exactly once with the
/// upstream's truth — not at its worst case, and not again after a further restart.
/// </summary>
[Collection("process")]
public sealed class BackgroundRestartTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task KillNineWhileItRuns_RestartedGatewayResumesAndBillsItOnceWithTheUpstreamsTruth()
    {
        // Arrange: the upstream in a process of its own, and a gateway whose model goes to it.
        await using var upstream = await TollgateProcess.StartSimulateAsync();
        using var simulator = new HttpClient { BaseAddress = upstream.Address, Timeout = Wait };
        using var sandbox = new ProcessSandbox();
        string config = await sandbox.WriteConfigAsync(t =>
        {
            OutsideUpstream.Configure(t, upstream.Address);
            t["Gateway"] = new JsonObject { ["BackgroundPollInterval"] = "00:00:00.200" };
            t["Ledger"] = new JsonObject { ["FlushInterval"] = "00:00:00.100" };
        });
        const string CreateId = "bg-restart-create";
        string key;
        string responseId;
        await using (var gateway = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config))
        {
            (_, key) = await sandbox.CreateKeyAsync("basic", tenant: "bg");
            using var http = new HttpClient { BaseAddress = gateway.Address, Timeout = Wait };
            using var create = ChatCompletionTests.Json(key,
                """{"model":"ext-mini","background":true,"input":"Report [[sim:hold=restart]] [[sim:tokens=6]]"}""", "/v1/responses");
            create.Headers.Add("x-request-id", CreateId);
            using var created = await http.SendAsync(create);
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            using (var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync()))
            {
                Assert.Equal("queued", body.RootElement.GetProperty("status").GetString());
                responseId = body.RootElement.GetProperty("id").GetString()!;
            }

            Assert.Equal([responseId], await BackgroundLeasesAsync(sandbox));

            // Act: the gateway dies while the response runs upstream.
            gateway.KillHard();
            Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        await using (var restarted = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config))
        {
            await restarted.WaitForLineAsync(l => l.Contains(responseId, StringComparison.Ordinal) && l.Contains("polled again", StringComparison.Ordinal), Wait);
            // Still running upstream: nothing is billed, not even its worst case, and its lease stays.
            Assert.DoesNotContain(await sandbox.Ledger.ReadAsync(), r => r.RequestId == CreateId);
            Assert.Equal([responseId], await BackgroundLeasesAsync(sandbox));

            (await simulator.PostAsync("/_simulator/release/restart", null)).EnsureSuccessStatusCode();
            var rows = await Poll.UntilAsync(sandbox.Ledger.ReadAsync, rows => rows.Any(r => r.RequestId == CreateId), Wait,
                "the restarted gateway to bill the background response");

            // Assert: one record, with the upstream's usage and the model's prices.
            using var billJson = JsonDocument.Parse(await simulator.GetStringAsync($"/_simulator/bills/{CreateId}"));
            long prompt = billJson.RootElement.GetProperty("promptTokens").GetInt64();
            Assert.Equal(6, billJson.RootElement.GetProperty("completionTokens").GetInt64());
            var record = Assert.Single(rows, r => r.RequestId == CreateId);
            Assert.Equal(("ext-mini", "allowed", "ok", 200), (record.Model, record.Decision, record.Reason, record.Status));
            Assert.Equal((prompt, 6L), (record.InputTokens, record.OutputTokens));
            Assert.Equal(ChatCompletionTests.ExpectedCost(prompt, 0, 6, 150_000, 75_000, 600_000), record.CostNanos);
            Assert.Empty(await BackgroundLeasesAsync(sandbox));

            restarted.Terminate();
            Assert.Equal(0, await restarted.WaitForExitAsync(Wait));
        }

        // A further restart finds nothing left to settle: still one record.
        await using (var again = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config))
        {
            using var http = new HttpClient { BaseAddress = again.Address, Timeout = Wait };
            using var poll = new HttpRequestMessage(HttpMethod.Get, $"/v1/responses/{responseId}");
            poll.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            using var polled = await http.SendAsync(poll);
            using var body = JsonDocument.Parse(await polled.Content.ReadAsStringAsync());
            Assert.Equal("completed", body.RootElement.GetProperty("status").GetString());
            again.Terminate();
            Assert.Equal(0, await again.WaitForExitAsync(Wait));
        }

        var final = await sandbox.Ledger.ReadAsync();
        Assert.Single(final, r => r.RequestId == CreateId);
        Assert.Equal(1, final.Count(r => r.CostNanos > 0));
    }

    // The response ids of the open leases that hold background responses, read from the gateway's files.
    private static async Task<List<string>> BackgroundLeasesAsync(ProcessSandbox sandbox) =>
        [.. (await sandbox.Ledger.OpenLeasesAsync()).Values.OfType<string>()];
}
