using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.FunctionalTests.Resilience;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// What the Responses API asks for beyond what the gateway sees (issue 8): stored conversations and prompts, and hosted
/// tools with per-call fees, allowed per plan and model price, reserved at their worst case (the context window, every
/// call at the dearest fee) and settled to what the upstream reports — with exact ledger rows.
/// </summary>
public sealed class HostedToolsTests : IAsyncLifetime
{
    private const long WebSearchMicros = 10_000;
    private const long FileSearchMicros = 2_500;
    private const long NanosPerMicro = 1000;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(Configure);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    /// <summary>sim-mini prices web search at a cent a call and file search at a quarter cent; basic allows both, stored conversations and prompts.</summary>
    internal static void Configure(JsonObject tollgate)
    {
        tollgate["Models"]!["sim-mini"]!["Prices"]!["ToolCalls"] = new JsonObject { ["web_search"] = 0.01, ["file_search"] = 0.0025 };
        var basic = tollgate["Plans"]!["basic"]!;
        basic["HostedTools"] = new JsonArray("web_search", "file_search");
        basic["AllowConversations"] = true;
        basic["AllowStoredPrompts"] = true;
        tollgate["Plans"]!["premium"]!["HostedTools"] = new JsonArray("web_search");
    }

    [Fact]
    public async Task HostedTool_PlanDoesNotAllowIt_Refused400NamingTheToolAndTheSetting_NothingForwarded()
    {
        string key = await _gateway.CreateKeyAsync(plan: "free", user: "free-user");

        var (response, error, requestId) = await PostAsync(key, """{"model":"sim-mini","input":"look it up","tools":[{"type":"function","name":"f"},{"type":"web_search"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("param_not_allowed", "tools[1].type"), (error!.Value.GetProperty("code").GetString(), error.Value.GetProperty("param").GetString()));
        Assert.Contains("Plans:free:HostedTools", error.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Null(_gateway.Simulator.Billing.Find(requestId));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, 0L, 0L), (record.Decision, record.CostNanos, record.Usage.ToolCalls));
    }

    [Fact]
    public async Task HostedTool_AllowedByThePlanButNotPricedByTheModel_Refused400NamingThePrice()
    {
        string key = await _gateway.CreateKeyAsync(plan: "premium", user: "premium-user");

        var (response, error, requestId) = await PostAsync(key, """{"model":"sim-large","input":"look it up","tools":[{"type":"web_search"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("tools[0].type", error!.Value.GetProperty("param").GetString());
        Assert.Contains("Models:sim-large:Prices:ToolCalls:web_search", error.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Null(_gateway.Simulator.Billing.Find(requestId));
    }

    [Fact]
    public async Task StoredConversationAndPrompt_PlanDoesNotAllowThem_Refused400()
    {
        string key = await _gateway.CreateKeyAsync(plan: "free", user: "free-user-2");

        var (conversation, conversationError, _) = await PostAsync(key, """{"model":"sim-mini","input":"go on","conversation":"conv_1"}""");
        var (prompt, promptError, _) = await PostAsync(key, """{"model":"sim-mini","input":"go on","prompt":{"id":"pmpt_1"}}""");

        Assert.Equal((HttpStatusCode.BadRequest, "conversation"), (conversation.StatusCode, conversationError!.Value.GetProperty("param").GetString()));
        Assert.Contains("Plans:free:AllowConversations", conversationError.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "prompt"), (prompt.StatusCode, promptError!.Value.GetProperty("param").GetString()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HostedTools_Allowed_EachCallBilledAtItsFee_LedgerExact(bool stream)
    {
        string key = await _gateway.CreateKeyAsync(user: "searcher-" + stream);
        string body = $$"""
            {"model":"sim-mini","stream":{{(stream ? "true" : "false")}},"max_output_tokens":50,"max_tool_calls":5,
             "tools":[{"type":"web_search"},{"type":"file_search","vector_store_ids":["vs_1"]}],
             "input":"Find the tide tables [[sim:hosted_calls=3]] [[sim:tokens=12]]"}
            """;

        var (response, text, requestId) = await SendAsync(key, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Plain: the output lists each call once; streamed: announced (added, done) and listed by the final event.
        Assert.Equal(stream ? 6 : 2, CountOccurrences(text, "\"type\":\"web_search_call\""));
        Assert.Equal(stream ? 3 : 1, CountOccurrences(text, "\"type\":\"file_search_call\""));
        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal(3, bill.ToolCalls);
        var record = await _gateway.AuditAsync(requestId);
        // web search, file search, web search: two cents and a quarter.
        long fees = (2 * WebSearchMicros + FileSearchMicros) * NanosPerMicro;
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 12, 0) { ToolCalls = 3 }, record.Usage);
        Assert.Equal(fees, record.ToolFeeNanos);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 12, 150_000, 75_000, 600_000) + fees, record.CostNanos);
        Assert.Equal((UsageSource.Reported, false, false), (record.UsageSource, record.Overshoot, record.UsageClamped));
        if (!stream)
        {
            Assert.Equal(Money.FormatDollars(record.CostNanos), response.Headers.GetValues("x-tollgate-cost-usd").Single());
        }
    }

    [Fact]
    public async Task HostedTools_NoMaxToolCalls_ThePlansMaximumIsReservedAtTheDearestFeeAndSentUpstream()
    {
        string key = await _gateway.CreateKeyAsync(user: "worst-case");
        string body = """{"model":"sim-mini","max_output_tokens":20,"tools":[{"type":"file_search"},{"type":"web_search"}],"input":"Search a lot [[sim:hosted_calls=40]] [[sim:tokens=5]]"}""";

        var (response, _, requestId) = await SendAsync(key, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        // The plan's MaxToolCalls (10) went upstream as max_tool_calls: the simulator stopped there.
        Assert.Equal(10, bill.ToolCalls);
        // Reserved: the input, 20 output tokens and ten calls at a cent (web search, the dearer tool).
        long worst = ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 20, 150_000, 75_000, 600_000) + 10 * WebSearchMicros * NanosPerMicro;
        Assert.Equal(Money.FormatDollars(5 * Money.NanosPerDollar - worst), response.Headers.GetValues("x-tollgate-budget-remaining-usd").Single());
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(10, record.Usage.ToolCalls);
        Assert.Equal(5 * (WebSearchMicros + FileSearchMicros) * NanosPerMicro, record.ToolFeeNanos);
        Assert.True(record.CostNanos <= worst);
    }

    [Fact]
    public async Task HostedTools_WorstCaseOverTheBudget_RefusedBeforeForwarding_ALowerMaxToolCallsFits()
    {
        var (_, key) = await _gateway.CreateKeyWithLimitsAsync("basic", new Dictionary<string, string> { ["BudgetPerDay"] = "0.05" }, user: "small-budget");
        const string Tools = "\"tools\":[{\"type\":\"web_search\"}],\"max_output_tokens\":20";

        var (refused, error, refusedId) = await PostAsync(key, "{\"model\":\"sim-mini\",\"input\":\"search [[sim:tokens=3]]\"," + Tools + "}");
        var (allowed, _, allowedId) = await PostAsync(key, "{\"model\":\"sim-mini\",\"input\":\"search [[sim:tokens=3]]\",\"max_tool_calls\":4," + Tools + "}");

        // Ten searches at a cent are more than $0.05; four fit.
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("insufficient_quota", error!.Value.GetProperty("code").GetString());
        Assert.Null(_gateway.Simulator.Billing.Find(refusedId));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(WebSearchMicros * NanosPerMicro, (await _gateway.AuditAsync(allowedId)).ToolFeeNanos);
    }

    [Fact]
    public async Task HostedTools_StreamCut_CallsSeenBeforeTheCutBilled()
    {
        string key = await _gateway.CreateKeyAsync(user: "cut-searcher");
        string body = """{"model":"sim-mini","stream":true,"max_output_tokens":50,"tools":[{"type":"web_search"}],"input":"search then talk [[sim:hosted_calls=2]] [[sim:tokens=20]] [[sim:cut=4]]"}""";

        var (response, _, requestId) = await SendAsync(key, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bill = await _gateway.Simulator.Billing.WaitForAsync(requestId, CancellationToken.None);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((2L, false), (bill.ToolCalls, bill.Completed));
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal(2, record.Usage.ToolCalls);
        Assert.Equal(2 * WebSearchMicros * NanosPerMicro, record.ToolFeeNanos);
        Assert.Equal(ChatCompletionTests.ExpectedCost(record.Usage.InputTokens, 0, record.Usage.OutputTokens, 150_000, 75_000, 600_000) + record.ToolFeeNanos, record.CostNanos);
    }

    [Theory]
    [InlineData("\"conversation\":\"conv_1\"")]
    [InlineData("\"prompt\":{\"id\":\"pmpt_1\",\"version\":\"3\"}")]
    public async Task StoredConversationOrPrompt_ReservedAtTheContextWindow_SettledToTheUpstreamsCount(string field)
    {
        string key = await _gateway.CreateKeyAsync(user: "stored-" + field.Length);
        string body = "{\"model\":\"sim-mini\",\"max_output_tokens\":1000,\"input\":\"and then? [[sim:tokens=9]]\"," + field + "}";

        var (response, _, requestId) = await SendAsync(key, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Reserved: the whole context window of sim-mini (127,000 unseen input + 1,000 output) of the key's 200,000 a minute.
        Assert.Equal("72000", response.Headers.GetValues("x-ratelimit-remaining-tokens").Single());
        long worstTokens = ChatCompletionTests.ExpectedCost(127_000, 0, 1000, 150_000, 75_000, 600_000);
        long worstFees = field.Contains("prompt", StringComparison.Ordinal) ? 10 * WebSearchMicros * NanosPerMicro : 0;
        Assert.Equal(Money.FormatDollars(5 * Money.NanosPerDollar - worstTokens - worstFees), response.Headers.GetValues("x-tollgate-budget-remaining-usd").Single());
        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 9, 0), record.Usage);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 9, 150_000, 75_000, 600_000), record.CostNanos);
        Assert.Equal((UsageSource.Reported, false), (record.UsageSource, record.Overshoot));
    }

    [Fact]
    public async Task UpstreamReportsMoreCallsThanAllowed_BilledAtMaxToolCalls_Clamped()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            upstream.Configure(c);
            c["Models"]!["scripted-exact"]!["Prices"]!["ToolCalls"] = new JsonObject { ["web_search"] = 0.01 };
            c["Plans"]!["basic"]!["HostedTools"] = new JsonArray("web_search");
        });
        string key = await gateway.CreateKeyAsync();
        string calls = string.Join(",", Enumerable.Range(0, 5).Select(i => "{\"type\":\"web_search_call\",\"id\":\"ws_" + i + "\",\"status\":\"completed\"}"));
        upstream.Respond = (http, _) =>
        {
            http.Response.ContentType = "application/json";
            return http.Response.WriteAsync("{\"id\":\"resp_s\",\"object\":\"response\",\"status\":\"completed\",\"output\":[" + calls
                + ",{\"type\":\"message\",\"id\":\"m\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"found\"}]}],"
                + "\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}");
        };
        using var capped = ChatCompletionTests.Json(key, """{"model":"scripted-exact","input":"search","max_tool_calls":2,"tools":[{"type":"web_search"}]}""", "/v1/responses");
        using var uncapped = ChatCompletionTests.Json(key, """{"model":"scripted-exact","input":"search","tools":[{"type":"web_search"}]}""", "/v1/responses");

        using var response = await gateway.Http.SendAsync(capped);
        using var second = await gateway.Http.SendAsync(uncapped);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((2L, 2 * WebSearchMicros * NanosPerMicro), (record.Usage.ToolCalls, record.ToolFeeNanos));
        Assert.Equal(ChatCompletionTests.ExpectedCost(10, 0, 1, 1_000_000, 1_000_000, 2_000_000) + record.ToolFeeNanos, record.CostNanos);
        Assert.True(record.UsageClamped);
        Assert.True(record.Overshoot);
        // A request that set no max_tool_calls is sent with the plan's (10), and pays for the five calls made.
        var sent = upstream.Requests.ToArray();
        Assert.Equal(2, sent[0]["max_tool_calls"]!.GetValue<int>());
        Assert.Equal(10, sent[1]["max_tool_calls"]!.GetValue<int>());
        var secondRecord = await gateway.AuditAsync(second.Headers.GetValues("x-request-id").Single());
        Assert.Equal((5L, 5 * WebSearchMicros * NanosPerMicro, false), (secondRecord.Usage.ToolCalls, secondRecord.ToolFeeNanos, secondRecord.UsageClamped));
    }

    [Fact]
    public async Task HostedTools_InABackgroundResponse_FeesReservedWhileItRunsAndBilledOnceItEnds()
    {
        var (keyId, key) = await _gateway.CreateKeyWithIdAsync(user: "background-searcher");
        string body = """{"model":"sim-mini","background":true,"max_output_tokens":30,"max_tool_calls":4,"tools":[{"type":"web_search"}],"input":"Look it up [[sim:hold=bg-search]] [[sim:hosted_calls=2]] [[sim:tokens=7]]"}""";

        var (created, text, requestId) = await SendAsync(key, body);

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        string id;
        using (var document = JsonDocument.Parse(text))
        {
            Assert.Equal("queued", document.RootElement.GetProperty("status").GetString());
            id = document.RootElement.GetProperty("id").GetString()!;
        }

        // While it runs, the four calls at a cent each are held with the tokens.
        var lease = Assert.Single(await _gateway.App.Services.GetRequiredService<ILedgerStore>().ReadLeasesAsync(CancellationToken.None), l => l.RequestId == requestId);
        Assert.Equal((4L, 4 * WebSearchMicros * NanosPerMicro), (lease.Usage.ToolCalls, lease.ToolFeeNanos));

        _gateway.Simulator.Barrier.Release("bg-search");
        await _gateway.Simulator.Billing.WaitForAsync(requestId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        using var poll = new HttpRequestMessage(HttpMethod.Get, $"/v1/responses/{id}");
        poll.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var polled = await _gateway.Http.SendAsync(poll);
        Assert.Equal(HttpStatusCode.OK, polled.StatusCode);

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        var record = await _gateway.AuditAsync(requestId);
        long fees = 2 * WebSearchMicros * NanosPerMicro;
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 7, 0) { ToolCalls = 2 }, record.Usage);
        Assert.Equal(fees, record.ToolFeeNanos);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 7, 150_000, 75_000, 600_000) + fees, record.CostNanos);
        Assert.Equal((UsageSource.Reported, false, false), (record.UsageSource, record.Overshoot, record.UsageClamped));
        Assert.Empty(await _gateway.App.Services.GetRequiredService<ILedgerStore>().ReadLeasesAsync(CancellationToken.None));
        await _gateway.AssertNothingHeldAsync(keyId);
    }

    private async Task<(HttpResponseMessage Response, string Text, string RequestId)> SendAsync(string key, string body)
    {
        using var request = ChatCompletionTests.Json(key, body, "/v1/responses");
        var response = await _gateway.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response, text, response.Headers.GetValues("x-request-id").Single());
    }

    private async Task<(HttpResponseMessage Response, JsonElement? Error, string RequestId)> PostAsync(string key, string body)
    {
        var (response, text, requestId) = await SendAsync(key, body);
        JsonElement? error = null;
        if (!response.IsSuccessStatusCode)
        {
            using var document = JsonDocument.Parse(text);
            error = document.RootElement.GetProperty("error").Clone();
        }

        return (response, error, requestId);
    }

    private static int CountOccurrences(string text, string value)
    {
        int count = 0;
        for (int at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
