using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// A caller that leaves mid-stream: the provider bills the whole generation, so the gateway keeps reading the
/// upstream (without relaying) and bills what the provider reports. The simulator pauses its stream mid-way at a
/// barrier gate (<c>[[sim:pause=K:NAME]]</c>), so the caller really leaves while the stream is running, on any machine.
/// </summary>
public sealed class AbandonedStreamTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Stream_CallerAbandonsAfterFewChunks_GatewayKeepsReadingAndBillsProviderUsage()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"messages":[{"role":"user","content":"a long one [[sim:tokens=400]] [[sim:pause=5:abandon]]"}]}""");
        request.Headers.Add("x-request-id", "abandon-1");

        using var caller = _gateway.LeavingClient();
        using (var response = await caller.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
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

            await _gateway.Simulator.Barrier.WaitForWaitingAsync("abandon", 1, CancellationToken.None);
            Assert.Null(_gateway.Simulator.Billing.Find("abandon-1"));
        } // the caller disconnects here, mid-stream

        await _gateway.Departures.WaitAsync("abandon-1");
        _gateway.Simulator.Barrier.Release("abandon");
        var record = await _gateway.AuditAsync("abandon-1");
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
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"messages":[{"role":"user","content":"incremental [[sim:tokens=400]] [[sim:pause=5:incremental]]"}]}""");
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

        // The simulator is held mid-stream and bills only once the whole generation has been delivered: the caller
        // already holds the first words, so the gateway relayed them before the upstream finished.
        Assert.Equal(2, contentEvents);
        await _gateway.Simulator.Barrier.WaitForWaitingAsync("incremental", 1, CancellationToken.None);
        Assert.Null(_gateway.Simulator.Billing.Find("incremental-1"));
        _gateway.Simulator.Barrier.Release("incremental");
        string rest = await reader.ReadToEndAsync();
        Assert.Contains("[DONE]", rest, StringComparison.Ordinal);
        Assert.NotNull(_gateway.Simulator.Billing.Find("incremental-1"));
    }
}
