using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Tokenization;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Budgets are enforced in band: the worst case is reserved before the upstream call, so requests held in flight at
/// once can never push spend past a budget, and restarts rebuild every counter from the ledger.
/// </summary>
public sealed class BudgetTests
{
    private const string HeldPrompt = "budget race [[sim:hold=race]] [[sim:tokens=40]]";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Budget_200ConcurrentRequestsHeldInFlight_ExactlyTenAdmittedAndLedgerWithinBudget(int seed)
    {
        long worst = WorstCaseNanos(HeldPrompt, maxTokens: 100, inMicros: 15_000_000, outMicros: 60_000_000);
        decimal budget = 10 * worst / 1_000_000_000m;
        await using var gateway = await TestGateway.StartAsync(c =>
            c["Plans"]!["metered"] = new JsonObject { ["Models"] = new JsonArray("*"), ["BudgetPerDay"] = budget });
        string[] keys = [await gateway.CreateKeyAsync(plan: "metered"), await gateway.CreateKeyAsync(plan: "metered")];
        // Both keys belong to the same user (alice), so they share the user's budget.
        var random = new Random(seed);
        var requests = Enumerable.Range(0, 200).Select(i =>
        {
            bool stream = random.Next(2) == 0;
            string body = $$"""{"model":"sim-large","max_tokens":100,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{HeldPrompt}}"}]}""";
            return gateway.Http.SendAsync(ChatCompletionTests.Json(keys[i % 2], body), HttpCompletionOption.ResponseHeadersRead);
        }).ToList();

        await gateway.Simulator.Barrier.WaitForWaitingAsync("race", 10, CancellationToken.None);
        // Every request not held at the simulator must come back refused, while the ten admitted ones stay in flight.
        for (int i = 0; i < 800 && requests.Count(r => r.IsCompleted) < 190; i++)
        {
            await Task.Delay(25);
        }

        var refused = new List<HttpResponseMessage>();
        foreach (var done in requests.Where(r => r.IsCompleted))
        {
            refused.Add(await done);
        }

        Assert.All(refused, r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        Assert.Equal(190, refused.Count);
        Assert.Equal(10, gateway.Simulator.Barrier.Waiting("race"));
        gateway.Simulator.Barrier.Release("race");
        var all = await Task.WhenAll(requests);
        foreach (var response in all.Where(r => r.StatusCode == HttpStatusCode.OK))
        {
            _ = await response.Content.ReadAsStringAsync();
        }

        Assert.Equal(10, all.Count(r => r.StatusCode == HttpStatusCode.OK));
        var (type, code, _) = await ChatCompletionTests.ErrorAsync(refused[0]);
        Assert.Equal(("insufficient_quota", "insufficient_quota"), (type, code));
        Assert.Equal("false", refused[0].Headers.GetValues("x-should-retry").Single());

        var records = await WaitForRecordsAsync(gateway, 200);
        var allowed = records.Where(r => r.Decision == Decisions.Allowed).ToList();
        Assert.Equal(10, allowed.Count);
        Assert.True(allowed.Sum(r => r.CostNanos) <= 10 * worst);
        foreach (var record in allowed)
        {
            var bill = gateway.Simulator.Billing.Find(record.RequestId)!;
            Assert.Equal((bill.PromptTokens, bill.CompletionTokens), (record.Usage.InputTokens, record.Usage.OutputTokens));
        }

        Assert.All(records.Where(r => r.Decision == Decisions.Refused), r => Assert.Equal((0L, "insufficient_quota"), (r.CostNanos, r.Reason)));
        Assert.Equal(0, gateway.Quotas.Outstanding);
        foreach (var response in all)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Concurrency_ThirdWhileTwoInFlight_429ThenFreedOnCompletion()
    {
        await using var gateway = await TestGateway.StartAsync(c =>
            c["Plans"]!["two"] = new JsonObject { ["Models"] = new JsonArray("*"), ["MaxConcurrentRequests"] = 2 });
        string key = await gateway.CreateKeyAsync(plan: "two");
        string held = """{"model":"sim-mini","stream":true,"messages":[{"role":"user","content":"[[sim:hold=c]]"}]}""";
        var first = gateway.Http.SendAsync(ChatCompletionTests.Json(key, held), HttpCompletionOption.ResponseHeadersRead);
        var second = gateway.Http.SendAsync(ChatCompletionTests.Json(key, held), HttpCompletionOption.ResponseHeadersRead);
        await gateway.Simulator.Barrier.WaitForWaitingAsync("c", 2, CancellationToken.None);

        using var third = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","messages":[{"role":"user","content":"x"}]}"""));

        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("concurrency_limit_exceeded", (await ChatCompletionTests.ErrorAsync(third)).Code);
        Assert.Equal("1", third.Headers.GetValues("Retry-After").Single());
        gateway.Simulator.Barrier.Release("c");
        using (var a = await first)
        using (var b = await second)
        {
            _ = await a.Content.ReadAsStringAsync();
            _ = await b.Content.ReadAsStringAsync();
        }

        await WaitForRecordsAsync(gateway, 3);
        using var fourth = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","messages":[{"role":"user","content":"x"}]}"""));
        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
    }

    [Fact]
    public async Task GlobalSpendShutoff_RefusesWithoutRevealingGatewayFigures()
    {
        await using var gateway = await TestGateway.StartAsync(c => c["Global"] = new JsonObject { ["BudgetPerDay"] = 0.00001m });
        string key = await gateway.CreateKeyAsync(plan: "premium");
        HttpResponseMessage? refused = null;
        for (int i = 0; i < 10 && refused is null; i++)
        {
            var response = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-large","max_tokens":50,"messages":[{"role":"user","content":"x"}]}"""));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
        }

        Assert.NotNull(refused);
        var (_, code, message) = await ChatCompletionTests.ErrorAsync(refused!);
        Assert.Equal("insufficient_quota", code);
        Assert.DoesNotContain("$", message, StringComparison.Ordinal);
        Assert.DoesNotContain("0.00001", message, StringComparison.Ordinal);
        // The headers carry the caller's own limits (premium: 2,000,000 tokens a minute, $100 a day), never the gateway's.
        Assert.Equal("2000000", refused!.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        Assert.Equal("100", refused.Headers.GetValues("x-tollgate-budget-remaining-usd").Single());
        Assert.Equal("false", refused.Headers.GetValues("x-should-retry").Single());
    }

    [Fact]
    public async Task Restart_MidWindow_RebuildsSpendFromLedgerAndBillsOrphanedLeases()
    {
        string prompt = "restart [[sim:tokens=10]]";
        long worst = WorstCaseNanos(prompt, maxTokens: 10, inMicros: 150_000, outMicros: 600_000);
        decimal budget = 5 * worst / 1_000_000_000m;
        void Configure(JsonObject c) => c["Plans"]!["metered"] = new JsonObject { ["Models"] = new JsonArray("*"), ["BudgetPerDay"] = budget };
        string body = $$"""{"model":"sim-mini","max_tokens":10,"messages":[{"role":"user","content":"{{prompt}}"}]}""";
        string directory;
        string key;
        await using (var first = await TestGateway.StartAsync(Configure))
        {
            first.DeleteOnDispose = false;
            directory = first.Directory;
            key = await first.CreateKeyAsync(plan: "metered");
            for (int i = 0; i < 3; i++)
            {
                using var ok = await first.Http.SendAsync(ChatCompletionTests.Json(key, body));
                Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            }

            // A request that was in flight when the process died: its lease is all that is left of it.
            var keyRecord = (await first.Keys.ListAsync("acme", CancellationToken.None)).Single();
            await first.App.Services.GetRequiredService<ILedgerStore>().AddLeaseAsync(new ReservationLease
            {
                Id = "res_crashed",
                Timestamp = TimeProvider.System.GetUtcNow(),
                RequestId = "crashed-1",
                Endpoint = "chat.completions",
                KeyId = keyRecord.Id,
                Tenant = "acme",
                User = "alice",
                Model = "sim-mini",
                Upstream = "simulator",
                Usage = new TokenUsage(7, 0, 10, 0),
                CostNanos = worst,
            }, CancellationToken.None);
        }

        await using var second = await TestGateway.StartAsync(Configure, directory: directory);
        var orphan = await second.AuditAsync("crashed-1");
        Assert.Equal((UsageSource.Reserved, worst, "orphaned_reservation"), (orphan.UsageSource, orphan.CostNanos, orphan.Reason));
        Assert.Empty(await second.App.Services.GetRequiredService<ILedgerStore>().ReadLeasesAsync(CancellationToken.None));

        // 3 settled + 1 orphan leave room for exactly one more worst case.
        using var fifth = await second.Http.SendAsync(ChatCompletionTests.Json(key, body));
        using var sixth = await second.Http.SendAsync(ChatCompletionTests.Json(key, body));
        Assert.Equal(HttpStatusCode.OK, fifth.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        Assert.Equal("insufficient_quota", (await ChatCompletionTests.ErrorAsync(sixth)).Code);
    }

    internal static long WorstCaseNanos(string prompt, long maxTokens, long inMicros, long outMicros)
    {
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = prompt } } }));
        long input = PromptTokenCounter.CountChat(document.RootElement, TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase));
        long picos = input * inMicros + maxTokens * outMicros;
        return (picos + 999) / 1000;
    }

    private static async Task<IReadOnlyList<AuditRecord>> WaitForRecordsAsync(TestGateway gateway, int count)
    {
        for (int i = 0; i < 400; i++)
        {
            var records = await gateway.AuditRecordsAsync();
            if (records.Count >= count)
            {
                return records;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Expected {count} audit records.");
    }
}
