using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Limits;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests.Resilience;

/// <summary>
/// Hundreds of concurrent requests through retries and fallbacks, with faults on either upstream: afterwards nothing
/// is held, every caller request counted exactly one request, every call to the primary upstream counted exactly once
/// against its quota, and every record's bill is the sum of its attempts' and matches what the simulators billed.
/// </summary>
public sealed class ResilienceStressTests
{
    private const int Requests = 240;
    private const int Parallelism = 24;

    [Fact]
    public async Task ConcurrentRequestsThroughRetriesAndFallbacks_AccountExactly()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        await using var gateway = await ResilienceSetup.StartAsync(c =>
        {
            ResilienceSetup.Upstream(c, "simulator", new JsonObject
            {
                ["Retry"] = new JsonObject { ["MaxRetries"] = 1, ["Delay"] = "00:00:00" },
                ["Limits"] = new JsonObject { ["RequestsPerMinute"] = 1_000_000 },
            });
            ResilienceSetup.Fallbacks(c, "sim-mini", "sim-backup");
        }, time);
        var (keyId, key) = await gateway.CreateKeyWithIdAsync(plan: "premium");
        string[] faults = ["", "[[sim:error]] [[sim:first=1]]", "[[sim:error]] [[sim:first=2]]", "[[sim:error]]", "[[sim:rate_limit]] [[sim:first=1]]", "[[sim:no_usage]]"];

        await Parallel.ForAsync(0, Requests, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, cancellationToken) =>
        {
            bool stream = i % 2 == 0;
            using var request = ResilienceSetup.Chat(key, $"stress {i} [[sim:tokens={3 + (i % 9)}]] {faults[i % faults.Length]}", stream: stream);
            request.Headers.Add("x-request-id", $"resilience-{i}");
            using var response = await gateway.Http.SendAsync(request, cancellationToken);
            _ = await response.Content.ReadAsStringAsync(cancellationToken);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadGateway, $"{i}: {response.StatusCode}");
        });

        var records = await gateway.AuditRecordsAsync();
        Assert.Equal(Requests, records.Count);
        await gateway.AssertNothingHeldAsync(keyId);
        Assert.All(records, r => Assert.Equal(Decisions.Allowed, r.Decision));
        Assert.Equal(Requests, await gateway.RequestsCountedAsync(keyId));

        long primaryCalls = 0;
        foreach (var record in records)
        {
            var attempts = record.Attempts ?? [new UpstreamAttempt { Upstream = record.Upstream!, Model = record.Model!, Reason = record.Reason, Usage = record.Usage, CostNanos = record.CostNanos, ReservationId = record.ReservationId }];
            primaryCalls += attempts.Count(a => a.Upstream == "simulator" && a.ReservationId is not null);
            Assert.Equal(Saturating.Sum(attempts, a => a.CostNanos), record.CostNanos);
            var bills = gateway.Bills("simulator", record.RequestId).Concat(gateway.Bills("backup", record.RequestId)).ToList();
            Assert.Equal(bills.Sum(b => b.PromptTokens), record.Usage.InputTokens);
            Assert.Equal(bills.Sum(b => b.CompletionTokens), record.Usage.OutputTokens);
            Assert.Equal(record.Reason == "ok" ? 1 : 0, bills.Count);
        }

        var upstreamRequests = new LimitCheck(new Scope(ScopeKind.Upstream, "up:simulator", "", TimeZoneInfo.Utc), Metric.Requests, Window.Minute, 1, 1, 0);
        Assert.Equal(primaryCalls, await gateway.Quotas.UsedAsync(upstreamRequests, time.GetUtcNow(), CancellationToken.None));
        var reasons = string.Join(", ", records.GroupBy(r => (r.Reason, r.Attempts?.Count ?? 1)).Select(g => $"{g.Key}={g.Count()}"));
        Assert.True(records.Any(r => r.Attempts is { Count: 3 }) && records.Any(r => r.Reason == "upstream_error"), reasons);
    }
}
