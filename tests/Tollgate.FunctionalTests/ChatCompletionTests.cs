using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI.Chat;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>Chat completions through the official OpenAI .NET client: the ledger equals the simulator's bill, exactly.</summary>
public sealed class ChatCompletionTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task CompleteChat_NormalCall_LedgerMatchesSimulatorBill()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetChatClient("sim-mini");
        string requestId = ids.Use();

        ClientResult<ChatCompletion> result = await client.CompleteChatAsync([new UserChatMessage("Tell me about toll gates.")]);

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.NotNull(bill);
        Assert.Equal(bill.PromptTokens, result.Value.Usage.InputTokenCount);
        Assert.Equal(bill.CompletionTokens, result.Value.Usage.OutputTokenCount);
        Assert.Equal(requestId, result.GetRawResponse().Headers.TryGetValue("x-request-id", out var echoed) ? echoed : null);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(Decisions.Allowed, record.Decision);
        Assert.Equal("ok", record.Reason);
        Assert.Equal(("acme", "alice", "sim-mini", "simulator"), (record.Tenant, record.User, record.Model, record.Upstream));
        Assert.Equal(new TokenUsage(bill.PromptTokens, bill.CachedTokens, bill.CompletionTokens, bill.ReasoningTokens), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(ExpectedCost(bill.PromptTokens, 0, bill.CompletionTokens, 150_000, 75_000, 600_000), record.CostNanos);
        Assert.Equal(bill.UpstreamRequestId, record.UpstreamRequestId);
        Assert.Equal(200, record.Status);
        Assert.Equal(200, record.UpstreamStatus);
    }

    [Fact]
    public async Task CompleteChat_CachedAndReasoningTokens_PricedAtTheirRates()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetChatClient("sim-large");
        string requestId = ids.Use();

        var result = await client.CompleteChatAsync([new UserChatMessage("Summarise the ledger design [[sim:cached=4]] [[sim:reasoning=7]]")]);

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(4, record.Usage.CachedInputTokens);
        Assert.Equal(7, record.Usage.ReasoningTokens);
        Assert.Equal(bill.CompletionTokens, record.Usage.OutputTokens);
        // sim-large: $15 input, $1.50 cached input, $60 output per million tokens.
        Assert.Equal(ExpectedCost(bill.PromptTokens - 4, 4, bill.CompletionTokens, 15_000_000, 1_500_000, 60_000_000), record.CostNanos);
        Assert.Equal(7, result.Value.Usage.OutputTokenDetails.ReasoningTokenCount);
    }

    [Fact]
    public async Task CompleteChat_ResponseBody_CarriesExactCost()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await PostAsync(key, """{"model":"sim-mini","messages":[{"role":"user","content":"cost please"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        long cost = body.RootElement.GetProperty("usage").GetProperty("cost_nanousd").GetInt64();
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(record.CostNanos, cost);
        Assert.Equal(Money.FormatDollars(cost), response.Headers.GetValues("x-tollgate-cost-usd").Single());
    }

    [Fact]
    public async Task CompleteChat_UpstreamOmitsUsage_BillsTokenizerCountMarkedEstimated()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetChatClient("sim-mini");
        string requestId = ids.Use();

        await client.CompleteChatAsync([new UserChatMessage("No usage here [[sim:no_usage]] [[sim:tokens=23]]")]);

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal(23, record.Usage.OutputTokens);
        Assert.Equal(bill.CompletionTokens, record.Usage.OutputTokens);
        Assert.Equal(bill.PromptTokens, record.Usage.InputTokens);
        Assert.True(record.CostNanos > 0);
    }

    [Fact]
    public async Task Post_SpoofedIdentityHeaders_IdentityComesFromKeyAlone()
    {
        string key = await _gateway.CreateKeyAsync(tenant: "acme", user: "alice");
        using var request = Json(key, """{"model":"sim-mini","messages":[{"role":"user","content":"who am I"}]}""");
        request.Headers.Add("X-Tenant-Id", "globex");
        request.Headers.Add("X-User-Id", "mallory");
        request.Headers.Add("X-Forwarded-For", "10.9.8.7");

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(("acme", "alice"), (record.Tenant, record.User));
    }

    [Fact]
    public async Task Post_CallerKey_IsNeverForwardedOrLogged()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await PostAsync(key, """{"model":"sim-mini","messages":[{"role":"user","content":"secret check"}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        Assert.DoesNotContain(_gateway.Simulator.Billing.All, b => b.ClientRequestId is not null && b.ClientRequestId.Contains(key, StringComparison.Ordinal));
        Assert.DoesNotContain(_gateway.Logs.Lines, line => line.Contains(key, StringComparison.Ordinal) || line.Contains(key[4..20], StringComparison.Ordinal));
        string body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(key, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_UpstreamGarbage_Is502AndBilledNotZero()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await PostAsync(key, """{"model":"sim-mini","messages":[{"role":"user","content":"[[sim:garbage]]"}]}""");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal("upstream_error", error.Code);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("upstream_error", record.Reason);
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
    }

    [Fact]
    public async Task Post_UpstreamRateLimited_Is429WithRetryAfterAndBillsNothing()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await PostAsync(key, """{"model":"sim-mini","messages":[{"role":"user","content":"[[sim:rate_limit]]"}]}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((0L, 0L), (record.Usage.TotalTokens, record.CostNanos));
        Assert.Equal(429, record.UpstreamStatus);
    }

    [Fact]
    public async Task Post_UpstreamServerError_Is502()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await PostAsync(key, """{"model":"sim-mini","messages":[{"role":"user","content":"[[sim:error]]"}]}""");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", (await ErrorAsync(response)).Code);
    }

    internal static long ExpectedCost(long uncached, long cached, long output, long inMicros, long cachedMicros, long outMicros)
    {
        long picos = uncached * inMicros + cached * cachedMicros + output * outMicros;
        return (picos + 999) / 1000;
    }

    private Task<HttpResponseMessage> PostAsync(string key, string body) => _gateway.Http.SendAsync(Json(key, body));

    internal static HttpRequestMessage Json(string? key, string body, string path = "/v1/chat/completions")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }

    internal static async Task<(string Type, string Code, string Message)> ErrorAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = document.RootElement.GetProperty("error");
        Assert.True(error.TryGetProperty("param", out _));
        return (error.GetProperty("type").GetString()!, error.GetProperty("code").GetString()!, error.GetProperty("message").GetString()!);
    }
}
