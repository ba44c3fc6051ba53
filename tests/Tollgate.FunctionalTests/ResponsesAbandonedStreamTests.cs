using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// A Responses API caller that leaves mid-stream: as for chat, the gateway keeps reading the upstream (without
/// relaying) and bills the usage of its <c>response.completed</c> event. The simulator streams at 5 ms per token here so
/// the caller really leaves while the stream is running.
/// </summary>
public sealed class ResponsesAbandonedStreamTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
        c["Upstreams"]!["simulator"]!["Simulator"] = new System.Text.Json.Nodes.JsonObject { ["TimePerToken"] = "00:00:00.005" });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task ResponsesStream_CallerAbandonsAfterFewDeltas_GatewayKeepsReadingAndBillsProviderUsage()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"input":"a long one [[sim:tokens=400]]"}""", "/v1/responses");
        request.Headers.Add("x-request-id", "resp-abandon-1");

        using (var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var stream = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(stream);
            int deltas = 0;
            while (deltas < 3 && await reader.ReadLineAsync() is { } line)
            {
                if (line.Contains("response.output_text.delta", StringComparison.Ordinal) && line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    deltas++;
                }
            }

            Assert.Equal(3, deltas);
            Assert.Null(_gateway.Simulator.Billing.Find("resp-abandon-1"));
        } // the caller disconnects here, mid-stream

        var record = await WaitForRecordAsync("resp-abandon-1");
        var bill = _gateway.Simulator.Billing.Find("resp-abandon-1")!;
        Assert.True(record.ClientAborted);
        Assert.Equal("client_aborted", record.Reason);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(400, record.Usage.OutputTokens);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
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
