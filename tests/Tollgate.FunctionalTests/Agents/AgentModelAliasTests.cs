using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests.Agents;

/// <summary>
/// The embedded default maps the coding agents' default model names onto the simulator's models, so Claude Code and
/// Codex CLI run on it with no model setting: Claude Code 2.1.100's main model <c>claude-sonnet-4-6</c> and its
/// background model <c>claude-haiku-4-5-20251001</c> are aliases of <c>sim-claude</c>, Codex CLI 0.171.0's
/// <c>gpt-6.2-sol</c> of <c>sim-mini</c>. The default plans authorize an alias as the model it names, and the ledger
/// and the upstream see the canonical model.
/// </summary>
public sealed class AgentModelAliasTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("claude-sonnet-4-6", "basic")]
    [InlineData("claude-haiku-4-5-20251001", "basic")]
    [InlineData("claude-sonnet-4-6", "premium")]
    [InlineData("claude-haiku-4-5-20251001", "premium")]
    public async Task Messages_ClaudeCodeDefaultModel_DefaultPlan_BilledAsSimClaude(string model, string plan)
    {
        string key = await _gateway.CreateKeyAsync(plan: plan);
        string requestId = $"alias-{plan}-{model}";

        using var response = await _gateway.Http.SendAsync(Messages(key, requestId,
            $$"""{"model":"{{model}}","max_tokens":64,"messages":[{"role":"user","content":"hi [[sim:tokens=7]]"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal(("messages", "sim-claude", 7L), (bill.Endpoint, bill.Model, bill.CompletionTokens));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "messages", "sim-claude", "simulator"), (record.Decision, record.Endpoint, record.Model, record.Upstream));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 7, 0), record.Usage);
        // sim-claude's prices: $3 input and $15 output per million tokens.
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 7, 3_000_000, 300_000, 15_000_000), record.CostNanos);
    }

    [Theory]
    [InlineData("free")]
    [InlineData("basic")]
    [InlineData("premium")]
    public async Task Responses_CodexDefaultModel_DefaultPlan_BilledAsSimMini(string plan)
    {
        string key = await _gateway.CreateKeyAsync(plan: plan);
        string requestId = $"alias-codex-{plan}";
        var request = ChatCompletionTests.Json(key, """{"model":"gpt-6.2-sol","max_output_tokens":64,"input":"hi [[sim:tokens=5]]"}""", "/v1/responses");
        request.Headers.Add("x-request-id", requestId);

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal(("responses", "sim-mini", 5L), (bill.Endpoint, bill.Model, bill.CompletionTokens));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "responses", "sim-mini", "simulator"), (record.Decision, record.Endpoint, record.Model, record.Upstream));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 5, 0), record.Usage);
        // sim-mini's prices: $0.15 input and $0.60 output per million tokens.
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 5, 150_000, 75_000, 600_000), record.CostNanos);
    }

    [Fact]
    public async Task Messages_ClaudeCodeDefaultModel_FreePlan_RefusedNamingTheCanonicalModel()
    {
        // The free plan lists sim-mini only: an alias is authorized as the model it resolves to, no more.
        string key = await _gateway.CreateKeyAsync(plan: "free");

        using var response = await _gateway.Http.SendAsync(Messages(key, "alias-free-claude",
            """{"model":"claude-sonnet-4-6","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(("error", "permission_error", "Your plan 'free' does not include the model 'sim-claude'."),
            (document.RootElement.GetProperty("type").GetString(), error.GetProperty("type").GetString(), error.GetProperty("message").GetString()));
        var record = await _gateway.AuditAsync("alias-free-claude");
        Assert.Equal((Decisions.Refused, "model_not_allowed", "sim-claude", 0L), (record.Decision, record.Reason, record.Model, record.CostNanos));
        Assert.Null(_gateway.Simulator.Billing.Find("alias-free-claude"));
    }

    private static HttpRequestMessage Messages(string key, string requestId, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("x-request-id", requestId);
        return request;
    }
}
