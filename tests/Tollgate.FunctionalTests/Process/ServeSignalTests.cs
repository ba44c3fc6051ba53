using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.FunctionalTests.Process;

/// <summary>The real <c>tollgate serve</c> process under SIGTERM (graceful drain) and SIGKILL (crash).</summary>
[Collection("process")]
public sealed class ServeSignalTests
{
    private const int Streams = 5;
    private const int TokensPerStream = 150;

    [Fact]
    public async Task Serve_SigtermWithStreamsInFlight_StreamsFinishNewRequestsRefusedLedgerComplete()
    {
        // Arrange: the upstream in a process of its own, whose streams pause mid-way at a gate until the test releases
        // it, so every stream is still running when SIGTERM arrives, however fast or loaded the machine.
        await using var upstream = await TollgateProcess.StartSimulateAsync();
        using var simulator = new HttpClient { BaseAddress = upstream.Address, Timeout = TimeSpan.FromSeconds(20) };
        using var sandbox = new ProcessSandbox();
        string config = await sandbox.WriteConfigAsync(t =>
        {
            OutsideUpstream.Configure(t, upstream.Address);
            t["Gateway"] = new JsonObject { ["DrainTimeout"] = "00:00:20" };
        });
        await using var gateway = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config);
        var (_, key) = await sandbox.CreateKeyAsync("basic", tenant: "drain");
        using var http = new HttpClient { BaseAddress = gateway.Address, Timeout = TimeSpan.FromSeconds(60) };
        var firstContent = Enumerable.Range(0, Streams).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var streams = firstContent.Select(first => ReadStreamAsync(http, key, first)).ToArray();
        await Task.WhenAll(firstContent.Select(f => f.Task)).WaitAsync(TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(() => simulator.GetStringAsync("/_simulator/held/drain"), held => JsonDocument.Parse(held).RootElement.GetProperty("waiting").GetInt32() == Streams,
            TimeSpan.FromSeconds(20), "every stream to pause mid-way");

        // Act
        var sinceSigterm = Stopwatch.StartNew();
        gateway.Terminate();

        // Assert: once shutdown has begun, a new connection is refused or answered 503, while the streams still run.
        await gateway.WaitForLineAsync(l => l.Contains("Application is shutting down", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        await Poll.UntilAsync(() => ProbeAsync(gateway.Address, http => http.GetAsync("/readyz")),
            outcome => outcome is "refused" or "503", TimeSpan.FromSeconds(10), "the gateway to stop admitting new connections");
        string model = await ProbeAsync(gateway.Address, http => http.SendAsync(StreamRequest(key)));
        Assert.Contains(model, new[] { "refused", "503 shutting_down" });
        Assert.DoesNotContain(streams, s => s.IsCompleted);

        (await simulator.PostAsync("/_simulator/release/drain", null)).EnsureSuccessStatusCode();
        var results = await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(25));
        foreach (var result in results)
        {
            Assert.Equal("[DONE]", result.Events[^1]);
            Assert.DoesNotContain(result.Events, e => e.Contains("\"error\"", StringComparison.Ordinal));
            Assert.Equal(TokensPerStream, result.ContentChunks);
            Assert.Equal(TokensPerStream, result.CompletionTokens);
        }

        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(sinceSigterm.Elapsed < TimeSpan.FromSeconds(20), $"exit took {sinceSigterm.Elapsed}, more than the drain timeout");

        var records = (await sandbox.Ledger.ReadAsync()).Where(r => r.Tenant == "drain").ToList();
        Assert.All(records, r => Assert.Equal(OutsideUpstream.Model, r.Model));
        Assert.Equal(Streams, records.Count);
        foreach (var result in results)
        {
            var record = Assert.Single(records, r => r.RequestId == result.RequestId);
            Assert.True(record.Stream);
            Assert.Equal(("allowed", 200), (record.Decision, record.Status));
            Assert.Equal((result.PromptTokens, (long)TokensPerStream), (record.InputTokens, record.OutputTokens));
            Assert.Equal(ChatCompletionTests.ExpectedCost(result.PromptTokens, 0, TokensPerStream, 150_000, 75_000, 600_000), record.CostNanos);
            Assert.Equal(result.CostNanos, record.CostNanos);
        }

        var usage = await sandbox.RunAsync("usage", "--tenant", "drain", "--json");
        Assert.True(usage.ExitCode == 0, usage.ToString());
        using var totals = JsonDocument.Parse(usage.StandardOutput);
        Assert.Equal(Streams, totals.RootElement.GetProperty("total_requests").GetInt64());
        Assert.Equal(records.Sum(r => r.CostNanos), totals.RootElement.GetProperty("total_cost_nanousd").GetInt64());
        Assert.Equal(Streams * TokensPerStream, totals.RootElement.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("output_tokens").GetInt64()));
    }

    [Fact]
    public async Task Serve_KillNine_FlushedRecordsSurviveAndRestartedGatewayRecords()
    {
        // Arrange
        using var sandbox = new ProcessSandbox();
        string config = await sandbox.WriteConfigAsync(t =>
        {
            KeysCliTests.ZeroLatency(t);
            t["Ledger"] = new JsonObject { ["FlushInterval"] = "00:00:00.100" };
        });
        var requestIds = new List<string>();
        string key;
        string? lastRequestId;
        await using (var gateway = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config))
        {
            (_, key) = await sandbox.CreateKeyAsync("basic", tenant: "crash");
            using var http = new HttpClient { BaseAddress = gateway.Address };
            for (int i = 0; i < 20; i++)
            {
                requestIds.Add(await ChatAsync(http, key, $"request {i}"));
            }

            // A record is durable once its batch is committed, at most one flush interval (100 ms) after the request
            // ended; the bound here only absorbs a loaded machine.
            await Poll.UntilAsync(sandbox.Ledger.ReadAsync, rows => requestIds.All(id => rows.Any(r => r.RequestId == id)),
                TimeSpan.FromSeconds(5), "the 20 records to reach the ledger file");

            // What a crash loses: the records of requests that finished within the last flush interval, still queued
            // in memory. This one may or may not be written; the 20 above, older than the window, must all survive.
            lastRequestId = await ChatAsync(http, key, "the last one");

            // Act
            gateway.KillHard();
            Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        // Assert
        Assert.Equal("ok", await sandbox.Ledger.IntegrityCheckAsync());
        var afterCrash = await sandbox.Ledger.ReadAsync();
        foreach (string id in requestIds)
        {
            var record = Assert.Single(afterCrash, r => r.RequestId == id);
            Assert.Equal((200, "sim-mini"), (record.Status, record.Model));
            Assert.True(record.OutputTokens > 0 && record.CostNanos > 0);
        }

        Assert.InRange(afterCrash.Count(r => r.RequestId == lastRequestId), 0, 1);

        await using var restarted = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config);
        using var client = new HttpClient { BaseAddress = restarted.Address };
        string afterRestart = await ChatAsync(client, key, "after the crash");
        var rows = await Poll.UntilAsync(sandbox.Ledger.ReadAsync, rows => rows.Any(r => r.RequestId == afterRestart),
            TimeSpan.FromSeconds(5), "the request after the restart to be recorded");
        Assert.All(requestIds, id => Assert.Single(rows, r => r.RequestId == id));
        Assert.Equal(200, rows.Single(r => r.RequestId == afterRestart).Status);
    }

    [Fact]
    public async Task Serve_KillNineWithStreamsMidWay_RestartBillsEachInFlightRequestOnceAtItsWorstCase()
    {
        // Arrange: streams paused mid-way at an upstream in its own process, so they are surely in flight at the kill.
        await using var upstream = await TollgateProcess.StartSimulateAsync();
        using var simulator = new HttpClient { BaseAddress = upstream.Address, Timeout = TimeSpan.FromSeconds(20) };
        using var sandbox = new ProcessSandbox();
        string config = await sandbox.WriteConfigAsync(t => OutsideUpstream.Configure(t, upstream.Address));
        string key;
        var firstContent = Enumerable.Range(0, Streams).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        await using (var gateway = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config))
        {
            (_, key) = await sandbox.CreateKeyAsync("basic", tenant: "killed");
            using var http = new HttpClient { BaseAddress = gateway.Address, Timeout = TimeSpan.FromSeconds(60) };
            var streams = firstContent.Select(first => ReadStreamAsync(http, key, first)).ToArray();
            await Task.WhenAll(firstContent.Select(f => f.Task)).WaitAsync(TimeSpan.FromSeconds(30));
            await Poll.UntilAsync(() => simulator.GetStringAsync("/_simulator/held/drain"), held => JsonDocument.Parse(held).RootElement.GetProperty("waiting").GetInt32() == Streams,
                TimeSpan.FromSeconds(20), "every stream to pause mid-way");
            Assert.Equal(Streams, (await sandbox.Ledger.OpenLeasesAsync()).Count);

            // Act: the gateway dies with every stream in flight; its callers see their streams end early.
            gateway.KillHard();
            Assert.NotEqual(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            foreach (var stream in streams)
            {
                await Assert.ThrowsAnyAsync<Exception>(() => stream.WaitAsync(TimeSpan.FromSeconds(20)));
            }
        }

        Assert.DoesNotContain(await sandbox.Ledger.ReadAsync(), r => r.Tenant == "killed" && r.Reason != "ok");
        (await simulator.PostAsync("/_simulator/release/drain", null)).EnsureSuccessStatusCode();

        // Assert: the restarted gateway finds the five leases and bills each once, at the worst case it reserved.
        await using (var restarted = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config))
        {
            var rows = await Poll.UntilAsync(sandbox.Ledger.ReadAsync, rows => rows.Count(r => r.Tenant == "killed") == Streams, TimeSpan.FromSeconds(20),
                "the restarted gateway to bill the in-flight requests");
            var killed = rows.Where(r => r.Tenant == "killed").ToList();
            Assert.All(killed, r => Assert.Equal(("orphaned_reservation", OutsideUpstream.Model), (r.Reason, r.Model)));
            Assert.Equal(Streams, killed.Select(r => r.RequestId).Distinct().Count());
            // The worst case of a request without a cap: its prompt and the plan's default output cap, at sim-mini's prices.
            Assert.All(killed, r => Assert.Equal(ChatCompletionTests.ExpectedCost(r.InputTokens, 0, r.OutputTokens, 150_000, 75_000, 600_000), r.CostNanos));
            Assert.All(killed, r => Assert.True(r.OutputTokens > TokensPerStream, $"reserved {r.OutputTokens} output tokens"));
            Assert.Empty(await sandbox.Ledger.OpenLeasesAsync());
        }

        // A second restart bills nothing again.
        await using (var again = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config))
        {
            using var http = new HttpClient { BaseAddress = again.Address };
            string after = await ChatAsync(http, key, "after two restarts", OutsideUpstream.Model);
            await Poll.UntilAsync(sandbox.Ledger.ReadAsync, rows => rows.Any(r => r.RequestId == after), TimeSpan.FromSeconds(10), "the next request's record");
            Assert.Equal(Streams, (await sandbox.Ledger.ReadAsync()).Count(r => r.Reason == "orphaned_reservation"));
        }
    }

    private static async Task<string> ChatAsync(HttpClient http, string key, string content, string model = "sim-mini")
    {
        using var request = ChatCompletionTests.Json(key, JsonSerializer.Serialize(new
        {
            model,
            messages = new[] { new { role = "user", content = content + " [[sim:tokens=5]]" } },
        }));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("x-request-id").Single();
    }

    private static HttpRequestMessage StreamRequest(string key) => ChatCompletionTests.Json(key,
        $$"""{"model":"{{OutsideUpstream.Model}}","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"A long story [[sim:tokens={{TokensPerStream}}]] [[sim:pause=5:drain]]"}]}""");

    // A request on a connection of its own (the shared client's connections are busy with the streams): its status,
    // "503 <code>" for a refused model request, or "refused" when no connection is served.
    private static async Task<string> ProbeAsync(Uri address, Func<HttpClient, Task<HttpResponseMessage>> send)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = await send(http);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                return ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return response.Content.Headers.ContentType?.MediaType == "application/json" && response.RequestMessage?.Method == HttpMethod.Post
                ? "503 " + (await ChatCompletionTests.ErrorAsync(response)).Code
                : "503";
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ResponseEnded || IsRefusedOrReset(e))
        {
            // Refused once the listener is closed; reset or ended when the kernel had queued the connection just
            // before, and Kestrel then dropped it unserved.
            return "refused";
        }
    }

    private static bool IsRefusedOrReset(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.ConnectionReset })
            {
                return true;
            }
        }

        return false;
    }

    private static async Task<StreamResult> ReadStreamAsync(HttpClient http, string key, TaskCompletionSource firstContent)
    {
        try
        {
            using var request = StreamRequest(key);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            string requestId = response.Headers.GetValues("x-request-id").Single();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8);
            var events = new List<string>();
            int contentChunks = 0;
            long prompt = 0, completion = 0, cost = 0;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                string data = line["data: ".Length..];
                events.Add(data);
                if (data == "[DONE]")
                {
                    continue;
                }

                using var chunk = JsonDocument.Parse(data);
                if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    prompt = usage.GetProperty("prompt_tokens").GetInt64();
                    completion = usage.GetProperty("completion_tokens").GetInt64();
                    cost = usage.GetProperty("cost_nanousd").GetInt64();
                }

                if (chunk.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                    && choices[0].GetProperty("delta").TryGetProperty("content", out var text) && text.GetString() is { Length: > 0 })
                {
                    contentChunks++;
                    firstContent.TrySetResult();
                }
            }

            return new StreamResult(requestId, events, contentChunks, prompt, completion, cost);
        }
        finally
        {
            firstContent.TrySetException(new InvalidOperationException("The stream ended before its first content chunk."));
        }
    }

    private sealed record StreamResult(string RequestId, List<string> Events, int ContentChunks, long PromptTokens, long CompletionTokens, long CostNanos);
}
