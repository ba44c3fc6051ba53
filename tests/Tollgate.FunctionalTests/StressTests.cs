using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Limits;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Hundreds of concurrent requests — plain and streamed, with random client cancellations and upstream faults — against
/// tight limits at every scope. Asserts the invariant at every sample and exactly after quiesce: spend within every
/// budget, the ledger equal to the simulator's truth, and no reservation or concurrency slot left behind.
/// Fixed seeds; set TOLLGATE_STRESS_REPEAT for more rounds.
/// </summary>
public sealed class StressTests
{
    private const decimal TenantBudget = 0.0006m;
    private const decimal UserBudget = 0.00025m;

    public static TheoryData<int> Seeds()
    {
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("TOLLGATE_STRESS_REPEAT"), CultureInfo.InvariantCulture, out int r) ? Math.Max(1, r) : 2;
        var data = new TheoryData<int>();
        for (int seed = 1; seed <= rounds; seed++)
        {
            data.Add(seed);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Race_MixedTrafficWithCancellationsAndFaults_InvariantHoldsAndLedgerIsExact(int seed)
    {
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            c["Upstreams"]!["simulator"]!["Simulator"] = new JsonObject { ["TimePerToken"] = "00:00:00.001" };
            c["Plans"]!["tight"] = new JsonObject
            {
                ["Models"] = new JsonArray("*"),
                ["MaxConcurrentRequests"] = 6,
                ["TokensPerMinute"] = 40_000,
                ["BudgetPerDay"] = UserBudget,
                ["MaxOutputTokens"] = 60,
            };
            c["TenantDefaults"] = new JsonObject { ["BudgetPerDay"] = TenantBudget, ["MaxConcurrentRequests"] = 20 };
            c["Global"] = new JsonObject { ["MaxConcurrentRequests"] = 30 };
        });
        var keys = new List<string>();
        for (int u = 0; u < 8; u++)
        {
            keys.Add(await gateway.CreateKeyAsync(plan: "tight", tenant: "t" + (u % 2), user: "u" + u));
        }

        var random = new Random(seed);
        var tenantBudget = new LimitCheck(new Scope(ScopeKind.Tenant, "t:t0", "tenant t0", TimeZoneInfo.Utc), Metric.Spend, Window.CalendarDay, Nanos(TenantBudget), 0, 0);
        using var sampling = new CancellationTokenSource();
        var violations = 0;
        long maxSeen = 0;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                long used = await gateway.Quotas.UsedAsync(tenantBudget, TimeProvider.System.GetUtcNow(), CancellationToken.None);
                maxSeen = Math.Max(maxSeen, used);
                if (used > tenantBudget.Limit)
                {
                    Interlocked.Increment(ref violations);
                }

                await Task.Delay(1);
            }
        });

        var tasks = Enumerable.Range(0, 300).Select(i => RunOneAsync(gateway, keys[random.Next(keys.Count)], random.Next(), i)).ToList();
        await Task.WhenAll(tasks);
        var records = await WaitForQuiesceAsync(gateway, 300);
        await sampling.CancelAsync();
        await sampler;

        var over = records.Where(r => r.OutputCap is { } cap && r.Usage.OutputTokens > cap).Select(r => $"{r.RequestId}:{r.Usage.OutputTokens}>{r.OutputCap}:{r.UsageSource}:{r.Reason}").ToList();
        Assert.True(violations == 0, $"violations={violations}, max={maxSeen}, over=[{string.Join(";", over)}]");
        Assert.Equal(0, gateway.Quotas.Outstanding);
        foreach (string tenant in new[] { "t0", "t1" })
        {
            var concurrency = new LimitCheck(new Scope(ScopeKind.Tenant, "t:" + tenant, "tenant", TimeZoneInfo.Utc), Metric.Concurrency, Window.Concurrent, 1, 0, 0);
            Assert.Equal(0, await gateway.Quotas.UsedAsync(concurrency, TimeProvider.System.GetUtcNow(), CancellationToken.None));
            long spent = records.Where(r => r.Tenant == tenant && r.Decision == Decisions.Allowed).Sum(r => r.CostNanos);
            Assert.True(spent <= Nanos(TenantBudget), $"tenant {tenant} spent {spent} > {Nanos(TenantBudget)}");
        }

        foreach (var user in records.Where(r => r.Decision == Decisions.Allowed).GroupBy(r => r.User))
        {
            Assert.True(user.Sum(r => r.CostNanos) <= Nanos(UserBudget), $"user {user.Key} over budget");
        }

        foreach (var record in records.Where(r => r.Decision == Decisions.Allowed))
        {
            var bill = gateway.Simulator.Billing.Find(record.RequestId);
            if (record.UsageSource == UsageSource.Reserved)
            {
                continue; // outcome unknown to the gateway: billed at its worst case, conservatively
            }

            if (bill is null || record.UsageSource == UsageSource.None)
            {
                Assert.Equal(0, record.CostNanos);
                continue;
            }

            Assert.Equal(bill.PromptTokens, record.Usage.InputTokens);
            if (bill.Completed || record.UsageSource == UsageSource.Reported)
            {
                Assert.Equal(bill.CompletionTokens, record.Usage.OutputTokens);
            }
        }

        var reasons = string.Join(", ", records.GroupBy(r => r.Reason).Select(g => $"{g.Key}={g.Count()}"));
        Assert.True(records.Any(r => r.Reason == ErrorCodesInUse.InsufficientQuota), reasons);
        Assert.Contains(records, r => r.Decision == Decisions.Allowed);
    }

    private static async Task RunOneAsync(TestGateway gateway, string key, int dice, int index)
    {
        string[] faults = ["", "", "", "[[sim:no_usage]]", "[[sim:cut=3]]", "[[sim:error]]", "[[sim:rate_limit]]"];
        string fault = faults[dice % faults.Length];
        bool stream = dice / 7 % 2 == 0;
        bool abandon = stream && dice / 14 % 4 == 0;
        int tokens = 5 + dice / 56 % 50;
        string body = $$"""{"model":"sim-mini","max_tokens":60,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"stress {{index}} [[sim:tokens={{tokens}}]] {{fault}}"}]}""";
        using var request = ChatCompletionTests.Json(key, body);
        request.Headers.Add("x-request-id", $"stress-{index}");
        try
        {
            using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (abandon && response.StatusCode == HttpStatusCode.OK)
            {
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
                await reader.ReadLineAsync();
                return; // leave mid-stream
            }

            _ = await response.Content.ReadAsStringAsync();
        }
        catch (HttpRequestException)
        {
            // A cut stream may surface as a transport error on the client; the ledger is checked regardless.
        }
    }

    private static async Task<IReadOnlyList<AuditRecord>> WaitForQuiesceAsync(TestGateway gateway, int count)
    {
        for (int i = 0; i < 1200; i++)
        {
            var records = await gateway.AuditRecordsAsync();
            if (records.Count >= count && gateway.Quotas.Outstanding == 0)
            {
                return records;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Expected {count} audit records and no outstanding reservation.");
    }

    private static long Nanos(decimal dollars) => (long)(dollars * 1_000_000_000m);

    private static class ErrorCodesInUse
    {
        public const string InsufficientQuota = "insufficient_quota";
    }
}
