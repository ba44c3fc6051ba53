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

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task ResponsesStream_CallerAbandonsAfterFewDeltas_GatewayKeepsReadingAndBillsProviderUsage()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"input":"a long one [[sim:tokens=400]] [[sim:pause=5:abandon]]"}""", "/v1/responses");
        request.Headers.Add("x-request-id", "resp-abandon-1");

        using var caller = _gateway.LeavingClient();
        using (var response = await caller.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
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
            await _gateway.Simulator.Barrier.WaitForWaitingAsync("abandon", 1, CancellationToken.None);
            Assert.Null(_gateway.Simulator.Billing.Find("resp-abandon-1"));
        } // the caller disconnects here, mid-stream

        await _gateway.Departures.WaitAsync("resp-abandon-1");
        _gateway.Simulator.Barrier.Release("abandon");
        var record = await _gateway.AuditAsync("resp-abandon-1");
        var bill = _gateway.Simulator.Billing.Find("resp-abandon-1")!;
        Assert.True(record.ClientAborted);
        Assert.Equal("client_aborted", record.Reason);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(400, record.Usage.OutputTokens);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
    }
}
