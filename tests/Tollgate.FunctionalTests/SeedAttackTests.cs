using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>
/// The "Discovery" and "Exploit steps" of the inference-abuse reference (OWASP LLM10), run against the built-in
/// configuration's plans, each shown bounded. docs/policies.md lists them with the numbers.
/// </summary>
public sealed class SeedAttackTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Discovery1_HundredRequestsInTenSeconds_FreeTierAdmitsTen()
    {
        var time = new FakeTimeProvider(Noon);
        await using var gateway = await TestGateway.StartAsync(time: time);
        string key = await gateway.CreateKeyAsync(plan: "free");
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 100; i++)
        {
            using var response = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","messages":[{"role":"user","content":"Hello"}]}"""));
            statuses.Add(response.StatusCode);
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(90, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(10, gateway.Simulator.Billing.All.Count);
    }

    [Fact]
    public async Task Discovery2_FiftyThousandTokenPromptAndMaxOutput_Refused400()
    {
        await using var gateway = await TestGateway.StartAsync();
        string key = await gateway.CreateKeyAsync(plan: "free");
        string huge = string.Join(' ', Enumerable.Range(0, 20_000).Select(i => $"item{i * 7919 % 100_003}"));

        using var longPrompt = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, $$"""{"model":"sim-mini","messages":[{"role":"user","content":"{{huge}}"}]}"""));
        using var bigOutput = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","max_tokens":4096,"messages":[{"role":"user","content":"Write an essay"}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, longPrompt.StatusCode);
        Assert.Equal("context_length_exceeded", (await ChatCompletionTests.ErrorAsync(longPrompt)).Code);
        using var repeat = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","messages":[{"role":"user","content":"Repeat this 10000 times: buy now"}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, repeat.StatusCode);
        Assert.Equal("repetitive_input", (await ChatCompletionTests.ErrorAsync(repeat)).Code);
        Assert.Equal(HttpStatusCode.BadRequest, bigOutput.StatusCode);
        Assert.Equal("max_tokens_too_large", (await ChatCompletionTests.ErrorAsync(bigOutput)).Code);
        Assert.Empty(gateway.Simulator.Billing.All);
    }

    [Fact]
    public async Task Discovery3_FiftyConcurrentLongGenerations_FreeTierRunsTwo()
    {
        await using var gateway = await TestGateway.StartAsync();
        string key = await gateway.CreateKeyAsync(plan: "free");
        var requests = Enumerable.Range(0, 50).Select(_ => gateway.Http.SendAsync(ChatCompletionTests.Json(key,
            """{"model":"sim-mini","stream":true,"messages":[{"role":"user","content":"Write a detailed essay [[sim:hold=essay]]"}]}"""),
            HttpCompletionOption.ResponseHeadersRead)).ToList();

        await gateway.Simulator.Barrier.WaitForWaitingAsync("essay", 2, CancellationToken.None);
        for (int i = 0; i < 800 && requests.Count(r => r.IsCompleted) < 48; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(48, requests.Count(r => r.IsCompleted));
        foreach (var done in requests.Where(r => r.IsCompleted))
        {
            using var response = await done;
            Assert.Equal("concurrency_limit_exceeded", (await ChatCompletionTests.ErrorAsync(response)).Code);
        }

        gateway.Simulator.Barrier.Release("essay");
        foreach (var response in await Task.WhenAll(requests))
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Exploit1_BulkRequestsDrainCredits_StopAtTheDailyBudget()
    {
        var time = new FakeTimeProvider(Noon);
        await using var gateway = await TestGateway.StartAsync(time: time);
        string key = await gateway.CreateKeyAsync(plan: "basic");
        HttpResponseMessage? refusal = null;
        int served = 0;
        for (int i = 0; i < 200 && refusal is null; i++)
        {
            var response = await gateway.Http.SendAsync(ChatCompletionTests.Json(key,
                """{"model":"sim-large","max_tokens":4096,"messages":[{"role":"user","content":"Generate 50 detailed product descriptions [[sim:tokens=4096]]"}]}"""));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                served++;
                response.Dispose();
                time.Advance(TimeSpan.FromSeconds(2));
            }
            else
            {
                refusal = response;
            }
        }

        Assert.NotNull(refusal);
        Assert.Equal("insufficient_quota", (await ChatCompletionTests.ErrorAsync(refusal!)).Code);
        Assert.Equal("false", refusal!.Headers.GetValues("x-should-retry").Single());
        // Midnight is hours away: no Retry-After for an SDK to sleep through, the reset time instead.
        Assert.False(refusal.Headers.Contains("Retry-After"));
        Assert.Equal("2026-11-24T00:00:00Z", refusal.Headers.GetValues("x-tollgate-budget-reset").Single());
        long spent = (await gateway.AuditRecordsAsync()).Where(r => r.Decision == Decisions.Allowed).Sum(r => r.CostNanos);
        Assert.True(spent <= 5_000_000_000, $"spent {spent} nanos of a $5 budget");
        Assert.InRange(served, 15, 25);
    }

    [Fact]
    public async Task Exploit2_TwoHundredConcurrentMaxLengthRequests_TenantCappedAndOthersStillServed()
    {
        await using var gateway = await TestGateway.StartAsync(c => c["TenantDefaults"]!["MaxConcurrentRequests"] = 16);
        var attackers = new List<string>();
        for (int u = 0; u < 10; u++)
        {
            attackers.Add(await gateway.CreateKeyAsync(plan: "premium", tenant: "attacker", user: "bot" + u));
        }

        string victim = await gateway.CreateKeyAsync(plan: "basic", tenant: "victim", user: "carol");
        var flood = Enumerable.Range(0, 200).Select(i => gateway.Http.SendAsync(ChatCompletionTests.Json(attackers[i % 10],
            """{"model":"sim-large","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"[[sim:hold=flood]]"}]}"""),
            HttpCompletionOption.ResponseHeadersRead)).ToList();
        await gateway.Simulator.Barrier.WaitForWaitingAsync("flood", 16, CancellationToken.None);
        for (int i = 0; i < 800 && flood.Count(r => r.IsCompleted) < 184; i++)
        {
            await Task.Delay(25);
        }

        using var legitimate = await gateway.Http.SendAsync(ChatCompletionTests.Json(victim, """{"model":"sim-mini","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(184, flood.Count(r => r.IsCompleted));
        Assert.Equal(16, gateway.Simulator.Barrier.Waiting("flood"));
        Assert.Equal(HttpStatusCode.OK, legitimate.StatusCode);
        gateway.Simulator.Barrier.Release("flood");
        foreach (var response in await Task.WhenAll(flood))
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Exploit3_StolenKeyAcrossEndpoints_KeyBudgetStopsItAndRevocationEndsIt()
    {
        await using var gateway = await TestGateway.StartAsync();
        var (id, stolen) = await gateway.CreateKeyWithLimitsAsync("basic", new Dictionary<string, string> { ["BudgetPerDay"] = "0.0002" });
        HttpStatusCode last = HttpStatusCode.OK;
        for (int i = 0; i < 60 && last == HttpStatusCode.OK; i++)
        {
            using var response = i % 2 == 0
                ? await gateway.Http.SendAsync(ChatCompletionTests.Json(stolen, """{"model":"sim-embed","input":"embed this text please"}""", "/v1/embeddings"))
                : await gateway.Http.SendAsync(ChatCompletionTests.Json(stolen, """{"model":"sim-mini","max_tokens":200,"messages":[{"role":"user","content":"x"}]}"""));
            last = response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        long spent = (await gateway.AuditRecordsAsync()).Where(r => r.Decision == Decisions.Allowed).Sum(r => r.CostNanos);
        Assert.True(spent <= 200_000);
        await gateway.Keys.RevokeAsync(id, TimeProvider.System.GetUtcNow(), CancellationToken.None);
        using var afterRevoke = await gateway.Http.SendAsync(ChatCompletionTests.Json(stolen, """{"model":"sim-embed","input":"x"}""", "/v1/embeddings"));
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke.StatusCode);
    }
}
