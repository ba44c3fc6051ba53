using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>Rate, token, concurrency and budget limits through the real server, on a fake clock.</summary>
public sealed class LimitsTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        c["Plans"]!["metered"] = new JsonObject
        {
            ["Models"] = new JsonArray("*"),
            ["RequestsPerMinute"] = 2,
            ["MaxOutputTokens"] = 100,
            ["DefaultMaxOutputTokens"] = 20,
            ["AllowLogprobs"] = false,
        };
        c["Plans"]!["clamped"] = new JsonObject { ["Models"] = new JsonArray("*"), ["MaxOutputTokens"] = 5, ["OutputCapPolicy"] = "clamp" };
        c["Plans"]!["shadowed"] = new JsonObject { ["Models"] = new JsonArray("*"), ["RequestsPerMinute"] = 1, ["Shadow"] = new JsonArray("RequestsPerMinute") };
        c["Plans"]!["frugal"] = new JsonObject { ["Models"] = new JsonArray("*"), ["ClampOutputToRemaining"] = true, ["BudgetPerDay"] = 0.00003m };
        c["Plans"]!["tasks"] = new JsonObject { ["Models"] = new JsonArray("*"), ["TaskBudgetPerDay"] = 0.00003m, ["MaxTasksPerKey"] = 2 };
        c["Tenants"] = new JsonObject { ["noisy"] = new JsonObject { ["RequestsPerMinute"] = 3 } };
    }, _time);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task RequestsPerMinute_ThirdRequest429WithAccurateRetryAfter_ThenAllowedAfterWindow()
    {
        string key = await _gateway.CreateKeyAsync(plan: "metered");
        using var first = await SendAsync(key);
        using var second = await SendAsync(key);
        _time.Advance(TimeSpan.FromSeconds(20));

        using var third = await SendAsync(key);

        Assert.Equal("1", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("2", first.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("0", second.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        var (type, code, message) = await ChatCompletionTests.ErrorAsync(third);
        Assert.Equal(("requests", "rate_limit_exceeded"), (type, code));
        Assert.Contains("requests per minute limit 2, requested 1, remaining 0, resets in 41s", message, StringComparison.Ordinal);
        Assert.Equal("41", third.Headers.GetValues("Retry-After").Single());
        Assert.Equal("41000", third.Headers.GetValues("retry-after-ms").Single());
        var record = await _gateway.AuditAsync(third.Headers.GetValues("x-request-id").Single());
        Assert.Equal((Decisions.Refused, "rate_limit_exceeded"), (record.Decision, record.Reason));

        _time.Advance(TimeSpan.FromSeconds(41));
        using var later = await SendAsync(key);
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    [Fact]
    public async Task Tenant_NoisyNeighbourHitsTenantLimit_OtherTenantUnaffected()
    {
        string[] noisy = [await _gateway.CreateKeyAsync(tenant: "noisy", user: "a"), await _gateway.CreateKeyAsync(tenant: "noisy", user: "b")];
        string quiet = await _gateway.CreateKeyAsync(tenant: "quiet", user: "c");
        for (int i = 0; i < 3; i++)
        {
            using var ok = await SendAsync(noisy[i % 2]);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var refused = await SendAsync(noisy[1]);
        using var other = await SendAsync(quiet);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.StartsWith("tenant noisy: requests per minute limit 3", (await ChatCompletionTests.ErrorAsync(refused)).Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task MaxTokens_OverPlanCap_400MaxTokensTooLarge()
    {
        string key = await _gateway.CreateKeyAsync(plan: "metered");
        using var response = await SendAsync(key, """{"model":"sim-mini","max_tokens":101,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (_, code, message) = await ChatCompletionTests.ErrorAsync(response);
        Assert.Equal("max_tokens_too_large", code);
        Assert.Contains("plan metered: at most 100 output tokens", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxTokens_BothFields_400()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await SendAsync(key, """{"model":"sim-mini","max_tokens":10,"max_completion_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task MaxTokens_NoneGiven_PlanDefaultInjectedAndHonoured()
    {
        string key = await _gateway.CreateKeyAsync(plan: "metered");
        using var response = await SendAsync(key, """{"model":"sim-mini","messages":[{"role":"user","content":"[[sim:tokens=60]]"}]}""");

        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(20, record.OutputCap);
        Assert.Equal(20, record.Usage.OutputTokens);
    }

    [Fact]
    public async Task MaxTokens_ClampPolicy_LowersTheCap()
    {
        string key = await _gateway.CreateKeyAsync(plan: "clamped");
        using var response = await SendAsync(key, """{"model":"sim-mini","max_tokens":50,"messages":[{"role":"user","content":"[[sim:tokens=40]]"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((5L, 5L), (record.OutputCap!.Value, record.Usage.OutputTokens));
    }

    [Fact]
    public async Task Logprobs_DeniedByPlan_400ParamNotAllowed()
    {
        string key = await _gateway.CreateKeyAsync(plan: "metered");
        using var response = await SendAsync(key, """{"model":"sim-mini","logprobs":true,"top_logprobs":5,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("param_not_allowed", (await ChatCompletionTests.ErrorAsync(response)).Code);
    }

    [Fact]
    public async Task ShadowLimit_WouldRefuseIsAuditedButAdmitted()
    {
        string key = await _gateway.CreateKeyAsync(plan: "shadowed");
        using var first = await SendAsync(key);
        using var second = await SendAsync(key);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var record = await _gateway.AuditAsync(second.Headers.GetValues("x-request-id").Single());
        Assert.Contains("requests per minute", record.ShadowRefusals, StringComparison.Ordinal);
        Assert.Null((await _gateway.AuditAsync(first.Headers.GetValues("x-request-id").Single())).ShadowRefusals);
    }

    [Fact]
    public async Task TaskBudget_RunawayTaskStops_OtherTaskContinues()
    {
        string key = await _gateway.CreateKeyAsync(plan: "tasks");
        HttpStatusCode last = HttpStatusCode.OK;
        int admitted = 0;
        for (int i = 0; i < 20 && last == HttpStatusCode.OK; i++)
        {
            using var response = await SendAsync(key, """{"model":"sim-mini","max_tokens":10,"messages":[{"role":"user","content":"loop [[sim:tokens=10]]"}]}""", "agent-1");
            last = response.StatusCode;
            if (last == HttpStatusCode.OK)
            {
                admitted++;
            }
            else
            {
                var (type, code, message) = await ChatCompletionTests.ErrorAsync(response);
                Assert.Equal(("insufficient_quota", "insufficient_quota"), (type, code));
                Assert.StartsWith("task agent-1: budget per calendar day limit $0.00003", message, StringComparison.Ordinal);
                Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
            }
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        Assert.InRange(admitted, 1, 19);
        var spent = (await _gateway.AuditRecordsAsync()).Where(r => r.Task == "agent-1" && r.Decision == Decisions.Allowed).Sum(r => r.CostNanos);
        Assert.True(spent <= 30_000, $"task spent {spent} nanos, budget 30000");
        using var other = await SendAsync(key, """{"model":"sim-mini","max_tokens":10,"messages":[{"role":"user","content":"x"}]}""", "agent-2");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        using var third = await SendAsync(key, """{"model":"sim-mini","max_tokens":10,"messages":[{"role":"user","content":"x"}]}""", "agent-3");
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Contains("New task ids are accepted again at 2026-11-24T00:00:00Z", (await ChatCompletionTests.ErrorAsync(third)).Message, StringComparison.Ordinal);
        Assert.Equal("false", third.Headers.GetValues("x-should-retry").Single());
        Assert.False(third.Headers.Contains("Retry-After"));
        Assert.True(third.Headers.Contains("x-ratelimit-remaining-requests"));
    }

    [Fact]
    public async Task Stream_UpstreamIgnoresOutputCap_CutAtReservation()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await SendAsync(key, """{"model":"sim-mini","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"[[sim:ignore_max_tokens]] [[sim:tokens=50]]"}]}""");
        string body = await response.Content.ReadAsStringAsync();

        using var last = JsonDocument.Parse(StreamingTests.DataEvents(body)[^1]);
        Assert.Equal("output_limit_exceeded", last.RootElement.GetProperty("error").GetProperty("code").GetString());
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.True(record.Overshoot);
        // Cut once the overrun is certain: past the 10 reserved by the model's 10 % margin and 8 tokens of slack,
        // so 19 words reached the caller; billed by estimate at most the reservation.
        string relayed = string.Concat(StreamingTests.DataEvents(body)[..^1].Select(e => JsonDocument.Parse(e).RootElement)
            .Where(e => e.TryGetProperty("choices", out var c) && c.GetArrayLength() > 0)
            .Select(e => e.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Equal(19, relayed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(10, record.Usage.OutputTokens);
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
    }

    [Fact]
    public async Task Plain_UpstreamIgnoresOutputCap_BilledAsItCameAndFlagged()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await SendAsync(key, """{"model":"sim-mini","max_tokens":10,"messages":[{"role":"user","content":"[[sim:ignore_max_tokens]] [[sim:tokens=50]]"}]}""");

        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.True(record.Overshoot);
        Assert.Equal((50L, UsageSource.Reported), (record.Usage.OutputTokens, record.UsageSource));
    }

    [Theory]
    [InlineData("RequestsPerMinute", "1", "1")]
    [InlineData("requestsperminute", "01", "1")]
    [InlineData("RequestsPerMinute", "+1", "2")]
    [InlineData("RequestsPerMinute", "1,000", "2")]
    [InlineData("RequestsPerMinute", "1e3", "2")]
    [InlineData("RequestsPerMinute", " 1", "2")]
    [InlineData("RequestsPerMinute", "0", "2")]
    [InlineData("RequestsPerMinute", "9223372036854775808", "2")]
    public async Task KeyOverride_StoredOverride_AppliedOnlyWhenItFollowsTheRule(string name, string value, string limit)
    {
        // Written to the store directly, as an older or hand-edited database might hold it: an invalid value is
        // skipped and the plan's own limit (2 per minute) applies.
        var (_, key) = await _gateway.CreateKeyWithLimitsAsync("metered", new Dictionary<string, string> { [name] = value });

        using var response = await SendAsync(key);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(limit, response.Headers.GetValues("x-ratelimit-limit-requests").Single());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConcurrencyOne_SequentialCaller_NeverRefused(bool stream)
    {
        // The reservation is settled before the answer's last bytes go out: a caller that sends its next request the
        // moment the previous answer arrived always finds its one slot free.
        var (_, key) = await _gateway.CreateKeyWithLimitsAsync("basic", new Dictionary<string, string> { ["MaxConcurrentRequests"] = "1" });
        string body = stream
            ? """{"model":"sim-mini","stream":true,"messages":[{"role":"user","content":"hi [[sim:tokens=3]]"}]}"""
            : """{"model":"sim-mini","messages":[{"role":"user","content":"hi [[sim:tokens=3]]"}]}""";
        for (int i = 0; i < 40; i++)
        {
            using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body));
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"request {i}: {(int)response.StatusCode} {text}");
        }
    }

    [Fact]
    public async Task BudgetWarning_FirstCrossingOfThreshold_HeaderAuditAndOnlyOnce()
    {
        // 80 % of $0.00005 is 40,000 nanos; each call costs about 14,000: the third crosses it, the fourth is refused.
        var (_, key) = await _gateway.CreateKeyWithLimitsAsync("basic", new Dictionary<string, string> { ["BudgetPerDay"] = "0.00005" });
        var warnings = new List<string?>();
        for (int i = 0; i < 5; i++)
        {
            using var response = await SendAsync(key, """{"model":"sim-mini","max_tokens":20,"messages":[{"role":"user","content":"[[sim:tokens=20]] warn"}]}""");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                break;
            }

            warnings.Add(response.Headers.TryGetValues("x-tollgate-budget-warning", out var values) ? values.Single() : null);
        }

        var raised = warnings.Where(w => w is not null).ToList();
        Assert.Single(raised);
        Assert.Contains("budget per calendar day", raised[0], StringComparison.Ordinal);
        Assert.Contains((await _gateway.AuditRecordsAsync()), r => r.Warning is not null);
    }

    [Fact]
    public async Task SourceAddress_LimitPerClientAddress_ForwardedHeaderFromUntrustedPeerIgnored()
    {
        await using var gateway = await TestGateway.StartAsync(c => c["SourceAddresses"] = new JsonObject { ["RequestsPerMinute"] = 2 }, _time);
        string a = await gateway.CreateKeyAsync(user: "a");
        string b = await gateway.CreateKeyAsync(user: "b");
        var statuses = new List<HttpStatusCode>();
        foreach (string key in new[] { a, b, a })
        {
            using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","messages":[{"role":"user","content":"x"}]}""");
            request.Headers.Add("X-Forwarded-For", "203.0.113." + statuses.Count);
            using var response = await gateway.Http.SendAsync(request);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.StartsWith("address 127.0.0.1: requests per minute limit 2", (await ChatCompletionTests.ErrorAsync(response)).Message, StringComparison.Ordinal);
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task ClampToRemaining_LowersOutputCapToWhatTheBudgetStillAffords()
    {
        string key = await _gateway.CreateKeyAsync(plan: "frugal");
        const string Body = """{"model":"sim-mini","max_tokens":40,"messages":[{"role":"user","content":"[[sim:tokens=40]] clamp"}]}""";
        using var first = await SendAsync(key, Body);
        using var second = await SendAsync(key, Body);

        var records = await _gateway.AuditRecordsAsync();
        var a = records.Single(r => r.RequestId == first.Headers.GetValues("x-request-id").Single());
        var b = records.Single(r => r.RequestId == second.Headers.GetValues("x-request-id").Single());
        Assert.Equal((40L, 40L), (a.OutputCap!.Value, a.Usage.OutputTokens));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.InRange(b.OutputCap!.Value, 1, 39);
        Assert.Equal(b.OutputCap.Value, b.Usage.OutputTokens);
        Assert.True(a.CostNanos + b.CostNanos <= 30_000);
    }

    private Task<HttpResponseMessage> SendAsync(string key, string? body = null, string? task = null)
    {
        var request = ChatCompletionTests.Json(key, body ?? """{"model":"sim-mini","messages":[{"role":"user","content":"hello"}]}""");
        if (task is not null)
        {
            request.Headers.Add("x-tollgate-task", task);
        }

        return _gateway.Http.SendAsync(request);
    }
}
