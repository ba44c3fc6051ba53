using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>SSE streams: relayed as they arrive, metered exactly, also when the caller leaves or the upstream cuts.</summary>
public sealed class StreamingTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task CompleteChatStreaming_OfficialClient_LedgerMatchesBillAndUsageChunkCarriesCost()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetChatClient("sim-mini");
        string requestId = ids.Use();
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream a story [[sim:tokens=30]]")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal(30, bill.CompletionTokens);
        Assert.NotNull(usage);
        Assert.Equal(bill.CompletionTokens, usage!.OutputTokenCount);
        var record = await _gateway.AuditAsync(requestId);
        Assert.True(record.Stream);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 30, 0), record.Usage);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 30, 150_000, 75_000, 600_000), record.CostNanos);
        Assert.False(string.IsNullOrWhiteSpace(text.ToString()));
    }

    [Fact]
    public async Task Stream_CallerDidNotAskForUsage_UsageChunkStrippedButStillBilled()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"messages":[{"role":"user","content":"no usage please [[sim:tokens=12]]"}]}""");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = DataEvents(body);
        Assert.Equal("[DONE]", events[^1]);
        Assert.DoesNotContain(events, e => e != "[DONE]" && JsonDocument.Parse(e).RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(12, record.Usage.OutputTokens);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(bill.PromptTokens, record.Usage.InputTokens);
    }

    [Fact]
    public async Task Stream_UpstreamCutMidway_BillsWhatWasSentEstimatedAndEndsWithErrorEvent()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"cut me [[sim:tokens=50]] [[sim:cut=5]]"}]}""");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        var events = DataEvents(body);
        using var last = JsonDocument.Parse(events[^1]);
        Assert.Equal("upstream_error", last.RootElement.GetProperty("error").GetProperty("code").GetString());
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal(5, record.Usage.OutputTokens);
        Assert.Equal(bill.CompletionTokens, record.Usage.OutputTokens);
        Assert.Equal(bill.PromptTokens, record.Usage.InputTokens);
        Assert.Equal("upstream_error", record.Reason);
        Assert.True(record.CostNanos > 0);
    }

    [Fact]
    public async Task Stream_UpstreamOmitsUsage_EstimatedFromRelayedText()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-large","stream":true,"messages":[{"role":"user","content":"[[sim:no_usage]] [[sim:tokens=17]]"}]}""");

        using var response = await _gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        _ = await response.Content.ReadAsStringAsync();

        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal((bill.PromptTokens, 17L), (record.Usage.InputTokens, record.Usage.OutputTokens));
    }

    internal static List<string> DataEvents(string body) =>
        [.. body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => e.StartsWith("data: ", StringComparison.Ordinal)).Select(e => e["data: ".Length..].Trim())];
}
