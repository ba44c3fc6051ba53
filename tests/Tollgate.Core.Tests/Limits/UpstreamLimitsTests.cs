using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Core.Tests.Configuration;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Pricing;
using Tollgate.Stores.Contracts;

namespace Tollgate.Core.Tests.Limits;

/// <summary>
/// The upstream's own quota as checks of the same reservation, follow-up attempts that do not count the caller's
/// request again, and the start-up replay of both.
/// </summary>
public sealed class UpstreamLimitsTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    private readonly GatewayConfig _config;

    public UpstreamLimitsTests()
    {
        var options = TestOptions.Valid();
        options.Plans["basic"].RequestsPerMinute = 100;
        options.Upstreams["openai"].Limits = new UpstreamLimitsOptions { RequestsPerMinute = 7, TokensPerMinute = 1_000, TenantSharePercent = 30 };
        Assert.True(GatewayConfig.TryCreate(options, out var config, out var errors), string.Join("; ", errors));
        _config = config!;
    }

    [Fact]
    public void AddUpstream_AddsTheQuotaAndTheTenantsShareRoundedUp_InvisibleToCallers()
    {
        var checks = new List<LimitCheck>();

        LimitPlanner.AddUpstream(checks, _config, "openai", "acme", new RequestDemand(40, 2, new ModelPrice(1, 1, 1)));

        Assert.Equal(
        [
            ("up:openai", Metric.Requests, 7L, 1L, 0L),
            ("up:openai", Metric.Tokens, 1_000L, 40L, 2L),
            ("up:openai/t:acme", Metric.Requests, 3L, 1L, 0L),
            ("up:openai/t:acme", Metric.Tokens, 300L, 40L, 2L),
        ], checks.Select(c => (c.Scope.Id, c.Metric, c.Limit, c.Fixed, c.PerOutputToken)));
        Assert.All(checks, c => Assert.False(c.Scope.IsVisibleToCaller));
        Assert.All(checks, c => Assert.Equal(Window.Minute, c.Window));
    }

    [Fact]
    public void AddUpstream_UpstreamWithoutLimits_AddsNothing()
    {
        var checks = new List<LimitCheck>();

        LimitPlanner.AddUpstream(checks, _config, "simulator", "acme", default);

        Assert.Empty(checks);
    }

    [Fact]
    public void BuildChecks_FollowUp_LeavesOutTheCallersRequestCountsOnly()
    {
        var plan = _config.Options.Plans["basic"];
        var first = LimitPlanner.BuildChecks(_config, plan, "key_1", "acme", "alice", null, null, new RequestDemand(10, 1, new ModelPrice(1, 1, 1)));
        var followUp = LimitPlanner.BuildChecks(_config, plan, "key_1", "acme", "alice", null, null, new RequestDemand(10, 1, new ModelPrice(1, 1, 1), FollowUp: true));

        Assert.Contains(first, c => c.Metric == Metric.Requests);
        Assert.DoesNotContain(followUp, c => c.Metric == Metric.Requests);
        Assert.Equal(first.Where(c => c.Metric != Metric.Requests), followUp);
    }

    [Fact]
    public async Task Recovery_ReplaysEachAttemptsCallAgainstItsUpstreamsQuota()
    {
        var ledger = new InMemoryLedgerStore();
        var keys = new InMemoryApiKeyStore();
        await keys.CreateAsync(TestKeys.Key("key_1", plan: "basic"), TestKeys.Hash(1), CancellationToken.None);
        var plain = TestAuditRecords.Usage("acme", "alice", "gpt-large", 10, 0, 5, 0, 100, s_now.AddSeconds(-10), "r1") with { KeyId = "key_1", Upstream = "openai" };
        var retried = TestAuditRecords.Usage("acme", "alice", "gpt-large", 20, 0, 6, 0, 200, s_now.AddSeconds(-5), "r2") with
        {
            KeyId = "key_1",
            Upstream = "openai",
            Attempts =
            [
                new UpstreamAttempt { Upstream = "openai", Model = "gpt-large", Status = 500, Reason = "upstream_error", ReservationId = "rsv_1" },
                new UpstreamAttempt { Upstream = "openai", Model = "gpt-large", Reason = "upstream_unavailable", ReservationId = "rsv_2" },
                new UpstreamAttempt { Upstream = "openai", Model = "gpt-large", Status = 200, Reason = "ok", Usage = new TokenUsage(20, 0, 6, 0), CostNanos = 200, ReservationId = "rsv_3" },
            ],
        };
        await ledger.AppendAsync([plain, retried], CancellationToken.None);
        var quotas = new InMemoryQuotaStore();

        await new QuotaRecovery(ledger, keys, quotas, new FakeTimeProvider(s_now), NullLogger<QuotaRecovery>.Instance).RunAsync(_config, CancellationToken.None);

        var upstream = new List<LimitCheck>();
        LimitPlanner.AddUpstream(upstream, _config, "openai", "acme", default);
        Assert.Equal(3, await quotas.UsedAsync(upstream[0], s_now, CancellationToken.None));
        Assert.Equal(15 + 26, await quotas.UsedAsync(upstream[1], s_now, CancellationToken.None));
        var keyRequests = LimitPlanner.BuildChecks(_config, _config.Options.Plans["basic"], "key_1", "acme", "alice", null, null, default)
            .Single(c => c.Scope.Kind == ScopeKind.Key && c.Metric == Metric.Requests);
        Assert.Equal(2, await quotas.UsedAsync(keyRequests, s_now, CancellationToken.None));
    }
}
