using Tollgate.Configuration;
using Tollgate.Pricing;

namespace Tollgate.Limits;

/// <summary>Turns configured limits into the <see cref="LimitCheck"/>s one request must pass.</summary>
public static class LimitPlanner
{
    /// <summary>
    /// The checks of every scope a request counts against: its key, user and tenant, its task's budget when it names
    /// a task, its source address when known, and the gateway. Admission uses them with the request's demand; the
    /// start-up replay of the ledger uses them with none (<c>default</c>), to count what each record consumed.
    /// </summary>
    /// <param name="config">The configuration (tenant and gateway limits, time zones).</param>
    /// <param name="plan">The key's plan, with its overrides applied.</param>
    /// <param name="keyId">The key's id.</param>
    /// <param name="tenant">The key's tenant.</param>
    /// <param name="user">The key's user.</param>
    /// <param name="task">The agent task (<c>x-tollgate-task</c>), or null.</param>
    /// <param name="source">The client address (IPv6 grouped by /64), or null.</param>
    /// <param name="demand">What the request may consume.</param>
    public static List<LimitCheck> BuildChecks(GatewayConfig config, PlanOptions plan, string keyId, string tenant, string user, string? task, string? source,
        in RequestDemand demand)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(plan);
        var rules = config.LimitRules;
        var checks = new List<LimitCheck>(24);
        Add(checks, rules.Caller(plan, keyId, tenant, user), demand);
        if (task is not null)
        {
            // Task ids come and go: their scope is not kept.
            var taskRules = new List<LimitRule>(1);
            LimitRules.Budget(taskRules, new Scope(ScopeKind.Task, "task:" + keyId + "/" + task, "task " + task, config.TimeZoneFor(tenant)),
                plan.TaskBudgetPerDay, Window.CalendarDay, plan.Shadow.Contains(nameof(PlanOptions.TaskBudgetPerDay)));
            Add(checks, taskRules, demand);
        }

        if (source is not null)
        {
            Add(checks, rules.Source(source, config.TimeZoneFor(tenant)), demand);
        }

        Add(checks, rules.Global, demand);
        return checks;
    }

    // A later attempt's checks leave out the caller's request counts (see RequestDemand.FollowUp).
    private static void Add(List<LimitCheck> checks, IReadOnlyList<LimitRule> rules, in RequestDemand demand)
    {
        for (int i = 0; i < rules.Count; i++)
        {
            if (!(demand.FollowUp && rules[i].Metric == Metric.Requests))
            {
                checks.Add(rules[i].For(demand));
            }
        }
    }

    /// <summary>
    /// Adds the checks of upstream <paramref name="upstream"/>'s own quota (<see cref="UpstreamOptions.Limits"/>), and
    /// of <paramref name="tenant"/>'s share of it when one is set; nothing when the upstream has none. Every attempt
    /// counts one call to the upstream, a follow-up attempt too.
    /// </summary>
    public static void AddUpstream(List<LimitCheck> checks, GatewayConfig config, string upstream, string tenant, in RequestDemand demand)
    {
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(config);
        if (!config.Options.Upstreams.TryGetValue(upstream, out var options) || options.Limits is not { } limits
            || (limits.RequestsPerMinute is null && limits.TokensPerMinute is null))
        {
            return;
        }

        var scope = new Scope(ScopeKind.Upstream, "up:" + upstream, "upstream " + upstream, TimeZoneInfo.Utc);
        AddUpstreamRates(checks, scope, limits.RequestsPerMinute, limits.TokensPerMinute, demand);
        if (limits.TenantSharePercent is { } share and < 100)
        {
            var tenantScope = new Scope(ScopeKind.Upstream, "up:" + upstream + "/t:" + tenant, "upstream " + upstream + " for tenant " + tenant, TimeZoneInfo.Utc);
            AddUpstreamRates(checks, tenantScope, Share(limits.RequestsPerMinute, share), Share(limits.TokensPerMinute, share), demand);
        }
    }

    private static void AddUpstreamRates(List<LimitCheck> checks, Scope scope, long? requests, long? tokens, in RequestDemand demand)
    {
        if (requests is { } r)
        {
            checks.Add(new LimitCheck(scope, Metric.Requests, Window.Minute, r, 1, 0));
        }

        if (tokens is { } t)
        {
            checks.Add(new LimitCheck(scope, Metric.Tokens, Window.Minute, t, demand.InputTokens, demand.OutputMultiplier));
        }
    }

    // A share rounds up, so a small quota still leaves every tenant at least one call.
    private static long? Share(long? limit, int percent) => limit is { } l ? Math.Max(1, (long)(((Int128)l * percent + 99) / 100)) : null;
}
