using Tollgate.Configuration;
using Tollgate.Core.Tests.Configuration;
using Tollgate.Limits;
using Tollgate.Pricing;

namespace Tollgate.Core.Tests.Limits;

/// <summary>
/// The checks of a request: every configured limit of every scope, with the request's amounts; the scopes worked out
/// once per caller and configuration, and worked out again when the plan, the configuration or the caller changes.
/// </summary>
public sealed class LimitPlannerTests
{
    private static readonly RequestDemand s_demand = new(100, 2, new ModelPrice(3_000_000, 1_000_000, 7_000_000)) { FeeNanos = 5 };

    private static GatewayConfig Config(Action<TollgateOptions> change)
    {
        var options = TestOptions.Valid();
        change(options);
        Assert.True(GatewayConfig.TryCreate(options, out var config, out var errors), string.Join("; ", errors));
        return config!;
    }

    private static readonly GatewayConfig s_config = Config(o =>
    {
        var plan = o.Plans["basic"];
        plan.RequestsPerMinute = 10;
        plan.TokensPerHour = 1_000;
        plan.InputTokensPerDay = 2_000;
        plan.OutputTokensPerMinute = 300;
        plan.MaxConcurrentRequests = 4;
        plan.BudgetPerDay = 1.5m;
        plan.TaskBudgetPerDay = 0.25m;
        plan.Shadow = [nameof(PlanOptions.TokensPerHour)];
        o.TenantDefaults.BudgetPerMonth = 100m;
        o.SourceAddresses.RequestsPerMinute = 50;
        o.Global.TokensPerMinute = 1_000_000;
        o.Tenants["globex"] = new TenantOptions { TimeZone = "Asia/Tokyo" };
    });

    [Fact]
    public void BuildChecks_EveryScopeAndMetric_CarriesTheRequestsAmounts()
    {
        var checks = LimitPlanner.BuildChecks(s_config, s_config.Options.Plans["basic"], "key_1", "acme", "alice", "t-1", "203.0.113.7", s_demand);

        // Spend in pico-dollars: 100 input tokens at $3/M plus 5 nano-dollars of fees; 2 output tokens per unit of cap at $7/M.
        long spendFixed = (100 * 3_000_000) + (5 * 1000), spendPerOutput = 2 * 7_000_000;
        Assert.Equal(
        [
            ("k:key_1", Metric.Requests, Window.Minute, 10L, 1L, 0L, false),
            ("k:key_1", Metric.Tokens, Window.Hour, 1_000L, 100L, 2L, true),
            ("k:key_1", Metric.InputTokens, Window.Day, 2_000L, 100L, 0L, false),
            ("k:key_1", Metric.OutputTokens, Window.Minute, 300L, 0L, 2L, false),
            ("k:key_1", Metric.Concurrency, Window.Concurrent, 4L, 1L, 0L, false),
            ("k:key_1", Metric.Spend, Window.CalendarDay, 1_500_000_000L, spendFixed, spendPerOutput, false),
            ("u:acme/alice", Metric.Requests, Window.Minute, 10L, 1L, 0L, false),
            ("u:acme/alice", Metric.Tokens, Window.Hour, 1_000L, 100L, 2L, true),
            ("u:acme/alice", Metric.InputTokens, Window.Day, 2_000L, 100L, 0L, false),
            ("u:acme/alice", Metric.OutputTokens, Window.Minute, 300L, 0L, 2L, false),
            ("u:acme/alice", Metric.Concurrency, Window.Concurrent, 4L, 1L, 0L, false),
            ("u:acme/alice", Metric.Spend, Window.CalendarDay, 1_500_000_000L, spendFixed, spendPerOutput, false),
            ("t:acme", Metric.Spend, Window.CalendarMonth, 100_000_000_000L, spendFixed, spendPerOutput, false),
            ("task:key_1/t-1", Metric.Spend, Window.CalendarDay, 250_000_000L, spendFixed, spendPerOutput, false),
            ("ip:203.0.113.7", Metric.Requests, Window.Minute, 50L, 1L, 0L, false),
            ("g", Metric.Tokens, Window.Minute, 1_000_000L, 100L, 2L, false),
        ], checks.Select(c => (c.Scope.Id, c.Metric, c.Window, c.Limit, c.Fixed, c.PerOutputToken, c.Shadow)));
    }

    [Fact]
    public void BuildChecks_SameCallerAgain_ReusesItsScopes()
    {
        var plan = s_config.Options.Plans["basic"];
        var first = LimitPlanner.BuildChecks(s_config, plan, "key_reuse", "acme", "alice", null, "198.51.100.1", s_demand);
        var second = LimitPlanner.BuildChecks(s_config, plan, "key_reuse", "acme", "alice", null, "198.51.100.1", s_demand with { InputTokens = 7 });

        Assert.Equal(first.Count, second.Count);
        Assert.All(first.Zip(second), pair => Assert.Same(pair.First.Scope, pair.Second.Scope));
        Assert.Equal(7, second.First(c => c.Metric == Metric.InputTokens).Fixed);
    }

    [Fact]
    public void BuildChecks_SameCallerAgain_SharesItsRequestAndConcurrencyChecks_NotTheOthers()
    {
        var plan = s_config.Options.Plans["basic"];
        var first = LimitPlanner.BuildChecks(s_config, plan, "key_share", "acme", "alice", null, "198.51.100.2", s_demand);
        var second = LimitPlanner.BuildChecks(s_config, plan, "key_share", "acme", "alice", null, "198.51.100.2", s_demand with { InputTokens = 7 });

        foreach (var (a, b) in first.Zip(second))
        {
            if (a.Metric is Metric.Requests or Metric.Concurrency)
            {
                // One per request whatever it asks: the same immutable check, with its amount of one.
                Assert.Same(a, b);
                Assert.Equal((1L, 0L), (b.Fixed, b.PerOutputToken));
            }
            else
            {
                Assert.NotSame(a, b);
            }
        }

        Assert.Contains(first, c => c.Metric == Metric.Requests);
        Assert.Contains(first, c => c.Metric == Metric.Concurrency);
    }

    [Fact]
    public void BuildChecks_PlanTenantOrUserChanged_BuildsTheCallersScopesAgain()
    {
        var basic = s_config.Options.Plans["basic"];
        var overridden = EffectivePlans.Get(s_config, "basic", new Dictionary<string, string> { [nameof(PlanOptions.RequestsPerMinute)] = "3" })!;
        LimitPlanner.BuildChecks(s_config, basic, "key_moves", "acme", "alice", null, null, s_demand);

        var withOverride = LimitPlanner.BuildChecks(s_config, overridden, "key_moves", "acme", "alice", null, null, s_demand);
        var otherUser = LimitPlanner.BuildChecks(s_config, basic, "key_moves", "acme", "bob", null, null, s_demand);
        var otherTenant = LimitPlanner.BuildChecks(s_config, basic, "key_moves", "globex", "bob", null, null, s_demand);

        Assert.Equal(3, withOverride.First(c => c.Scope.Kind == ScopeKind.Key && c.Metric == Metric.Requests).Limit);
        Assert.Contains(otherUser, c => c.Scope.Id == "u:acme/bob");
        Assert.Contains(otherTenant, c => c.Scope.Id == "u:globex/bob");
        Assert.Equal("Asia/Tokyo", otherTenant.First(c => c.Scope.Kind == ScopeKind.Key).Scope.TimeZone.Id);
    }

    [Fact]
    public void BuildChecks_OneSourceAddressForTenantsInTwoZones_CountsEachInItsTenantsZone()
    {
        var plan = s_config.Options.Plans["basic"];
        var acme = LimitPlanner.BuildChecks(s_config, plan, "key_a", "acme", "alice", null, "192.0.2.9", s_demand);
        var globex = LimitPlanner.BuildChecks(s_config, plan, "key_g", "globex", "gina", null, "192.0.2.9", s_demand);

        Assert.Equal("UTC", acme.Single(c => c.Scope.Kind == ScopeKind.SourceAddress).Scope.TimeZone.Id);
        Assert.Equal("Asia/Tokyo", globex.Single(c => c.Scope.Kind == ScopeKind.SourceAddress).Scope.TimeZone.Id);
    }

    [Fact]
    public void BuildChecks_AReloadedConfiguration_AppliesItsLimitsToTheNextRequest()
    {
        var before = Config(o => o.Plans["basic"].RequestsPerMinute = 10);
        var after = Config(o => o.Plans["basic"].RequestsPerMinute = 20);
        LimitPlanner.BuildChecks(before, before.Options.Plans["basic"], "key_1", "acme", "alice", null, null, s_demand);

        var checks = LimitPlanner.BuildChecks(after, after.Options.Plans["basic"], "key_1", "acme", "alice", null, null, s_demand);

        Assert.Equal(20, checks.First(c => c.Metric == Metric.Requests).Limit);
    }

    [Fact]
    public void BuildChecks_MoreCallersThanItKeeps_StaysBoundedAndRight()
    {
        var config = Config(o => o.Plans["basic"].RequestsPerMinute = 10);
        var plan = config.Options.Plans["basic"];
        for (int i = 0; i < LimitRules.Capacity + 10; i++)
        {
            var checks = LimitPlanner.BuildChecks(config, plan, $"key_{i}", "acme", "alice", null, null, s_demand);
            Assert.Equal($"k:key_{i}", checks[0].Scope.Id);
        }

        Assert.InRange(config.LimitRules.CallerCount, 1, LimitRules.Capacity);
    }

    [Fact]
    public void BuildChecks_FollowUp_LeavesOutRequestCountsInEveryScope()
    {
        var checks = LimitPlanner.BuildChecks(s_config, s_config.Options.Plans["basic"], "key_1", "acme", "alice", null, "203.0.113.7",
            s_demand with { FollowUp = true });

        Assert.DoesNotContain(checks, c => c.Metric == Metric.Requests);
        Assert.Contains(checks, c => c.Scope.Kind == ScopeKind.Global);
    }

    [Fact]
    public void BuildChecks_NoSourceAddressLimits_AddsAndKeepsNothingPerAddress()
    {
        var config = Config(o => o.Plans["basic"].RequestsPerMinute = 10);
        var plan = config.Options.Plans["basic"];
        for (int i = 0; i < 100; i++)
        {
            var checks = LimitPlanner.BuildChecks(config, plan, "key_1", "acme", "alice", null, $"2001:db8:{i:x}::", s_demand);
            Assert.DoesNotContain(checks, c => c.Scope.Kind == ScopeKind.SourceAddress);
        }

        Assert.Equal(0, config.LimitRules.SourceCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BuildChecks_GatewayConcurrency_IsTheQueuesUnlessItRunsInShadow(bool shadow)
    {
        var config = Config(o =>
        {
            o.Global.MaxConcurrentRequests = 8;
            if (shadow)
            {
                o.Global.Shadow = [nameof(LimitsOptions.MaxConcurrentRequests)];
            }
        });

        var checks = LimitPlanner.BuildChecks(config, config.Options.Plans["basic"], "key_1", "acme", "alice", null, null, s_demand);

        Assert.Equal(shadow, checks.Any(c => c.Scope.Kind == ScopeKind.Global && c.Metric == Metric.Concurrency && c.Shadow));
        Assert.DoesNotContain(checks, c => c.Scope.Kind == ScopeKind.Global && c.Metric == Metric.Concurrency && !c.Shadow);
    }
}
