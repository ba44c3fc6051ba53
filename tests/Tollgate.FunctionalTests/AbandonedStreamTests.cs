using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// A caller that leaves mid-stream: the provider bills the whole generation, so the gateway keeps reading the
/// upstream (without relaying) and bills what the provider reports. The simulator streams at 5 ms per token here so
/// the caller really leaves while the stream is running.
/// </summary>
public sealed class AbandonedStreamTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
        c["Upstreams"]!["simulator"]!["Simulator"] = new System.Text.Json.Nodes.JsonObject { ["TimePerToken"] = "00:00:00.005" });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Stream_CallerAbandonsAfterFewChunks_GatewayKeepsReadingAndBillsProviderUsage()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"messages":[{"role":"user","content":"a long one [[sim:tokens=400]]"}]}""");
        request.Headers.Add("x-request-id", "abandon-1");

        using (var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var stream = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(stream);
            int events = 0;
            while (events < 3 && await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    events++;
                }
            }
        } // the caller disconnects here, mid-stream

        var record = await WaitForRecordAsync("abandon-1");
        var bill = _gateway.Simulator.Billing.Find("abandon-1")!;
        Assert.True(record.ClientAborted);
        Assert.Equal("client_aborted", record.Reason);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(400, record.Usage.OutputTokens);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
    }

    [Fact]
    public async Task Stream_ChunksRelayedAsTheyArrive_NotBufferedWhole()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"messages":[{"role":"user","content":"incremental [[sim:tokens=400]]"}]}""");
        request.Headers.Add("x-request-id", "incremental-1");

        using var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        int contentEvents = 0;
        while (contentEvents < 2 && await reader.ReadLineAsync() is { } line)
        {
            if (line.Contains("\"content\":\" ", StringComparison.Ordinal))
            {
                contentEvents++;
            }
        }

        // The simulator settles its bill only once the whole generation (about 2 s here) has been delivered: the
        // caller already holds the first words, so the gateway relayed them before the upstream finished.
        Assert.Equal(2, contentEvents);
        Assert.Null(_gateway.Simulator.Billing.Find("incremental-1"));
        string rest = await reader.ReadToEndAsync();
        Assert.Contains("[DONE]", rest, StringComparison.Ordinal);
        Assert.NotNull(_gateway.Simulator.Billing.Find("incremental-1"));
    }

    private async Task<AuditRecord> WaitForRecordAsync(string requestId)
    {
        // The gateway settles an abandoned stream after reading the upstream to its end; poll the ledger for it.
        for (int i = 0; i < 200; i++)
        {
            var records = await _gateway.AuditRecordsAsync(new UsageQuery(RequestId: requestId));
            if (records.Count == 1)
            {
                return records[0];
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"No audit record for {requestId}.");
    }

}
