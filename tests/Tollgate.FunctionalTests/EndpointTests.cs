using System.Net;
using System.Text.Json;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>Embeddings and legacy completions, metered like chat.</summary>
public sealed class EndpointTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Embeddings_OfficialClient_LedgerMatchesBill()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetEmbeddingClient("sim-embed");
        string requestId = ids.Use();

        var result = await client.GenerateEmbeddingsAsync(["first text to embed", "and a second one"]);

        Assert.Equal(2, result.Value.Count);
        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal("embeddings", record.Endpoint);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 0, 0), record.Usage);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 0, 20_000, 20_000, 0), record.CostNanos);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
    }

    [Fact]
    public async Task Embeddings_ChatModel_Is400()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","input":"x"}""", "/v1/embeddings"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task LegacyCompletions_PlainAndStreaming_LedgerMatchesBill()
    {
        string key = await _gateway.CreateKeyAsync();
        using var plain = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","prompt":"Once upon a time [[sim:tokens=9]]","max_tokens":50}""", "/v1/completions"));
        using var streamed = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","prompt":"Once upon a time [[sim:tokens=11]]","stream":true}""", "/v1/completions"));
        string streamBody = await streamed.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        using var doc = JsonDocument.Parse(await plain.Content.ReadAsStringAsync());
        Assert.Equal("text_completion", doc.RootElement.GetProperty("object").GetString());
        Assert.Contains("[DONE]", streamBody, StringComparison.Ordinal);
        foreach (var (response, tokens) in new[] { (plain, 9L), (streamed, 11L) })
        {
            var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
            var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
            Assert.Equal("completions", record.Endpoint);
            Assert.Equal(new TokenUsage(bill.PromptTokens, 0, tokens, 0), record.Usage);
            Assert.Equal(UsageSource.Reported, record.UsageSource);
        }
    }

    [Fact]
    public async Task MaxTokens_CapsSimulatedOutput()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","max_tokens":4,"messages":[{"role":"user","content":"[[sim:tokens=30]]"}]}"""));

        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(4, record.Usage.OutputTokens);
    }
}
