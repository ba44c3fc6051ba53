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
        var zone = config.TimeZoneFor(tenant);
        var checks = new List<LimitCheck>(16);
        Add(checks, new Scope(ScopeKind.Key, "k:" + keyId, "key " + keyId, zone), plan, demand);
        Add(checks, new Scope(ScopeKind.User, "u:" + tenant + "/" + user, "user " + user, zone), plan, demand);
        Add(checks, new Scope(ScopeKind.Tenant, "t:" + tenant, "tenant " + tenant, zone), config.TenantLimits(tenant), demand);
        if (task is not null)
        {
            AddBudget(checks, new Scope(ScopeKind.Task, "task:" + keyId + "/" + task, "task " + task, zone), plan.TaskBudgetPerDay,
                Window.CalendarDay, plan.Shadow.Contains(nameof(PlanOptions.TaskBudgetPerDay)), demand);
        }

        if (source is not null)
        {
            Add(checks, new Scope(ScopeKind.SourceAddress, "ip:" + source, "address " + source, zone), config.Options.SourceAddresses, demand);
        }

        // The gateway's own concurrency is the shedding queue's (Shedding/FairScheduler, before admission), unless it runs in shadow mode.
        Add(checks, new Scope(ScopeKind.Global, "g", "gateway", config.GlobalTimeZone), config.Options.Global, demand,
            concurrencyQueued: !Shedding.QueueSettings.IsShadowed(config.Options.Global));
        return checks;
    }

    /// <summary>
    /// Adds a check for every limit set in <paramref name="limits"/> on <paramref name="scope"/>; with
    /// <paramref name="concurrencyQueued"/>, all but <c>MaxConcurrentRequests</c>, which a queue enforces instead.
    /// </summary>
    public static void Add(List<LimitCheck> checks, Scope scope, LimitsOptions limits, in RequestDemand demand, bool concurrencyQueued = false)
    {
        long input = demand.InputTokens;
        long multiplier = demand.OutputMultiplier;
        void Add(long? limit, string name, Metric metric, Window window, long fixedAmount, long perOutput)
        {
            if (limit is { } value)
            {
                checks.Add(new LimitCheck(scope, metric, window, value, fixedAmount, perOutput, limits.Shadow.Contains(name)));
            }
        }

        if (!demand.FollowUp)
        {
            Add(limits.RequestsPerMinute, nameof(limits.RequestsPerMinute), Metric.Requests, Window.Minute, 1, 0);
            Add(limits.RequestsPerHour, nameof(limits.RequestsPerHour), Metric.Requests, Window.Hour, 1, 0);
            Add(limits.RequestsPerDay, nameof(limits.RequestsPerDay), Metric.Requests, Window.Day, 1, 0);
        }

        Add(limits.TokensPerMinute, nameof(limits.TokensPerMinute), Metric.Tokens, Window.Minute, input, multiplier);
        Add(limits.TokensPerHour, nameof(limits.TokensPerHour), Metric.Tokens, Window.Hour, input, multiplier);
        Add(limits.TokensPerDay, nameof(limits.TokensPerDay), Metric.Tokens, Window.Day, input, multiplier);
        Add(limits.InputTokensPerMinute, nameof(limits.InputTokensPerMinute), Metric.InputTokens, Window.Minute, input, 0);
        Add(limits.InputTokensPerDay, nameof(limits.InputTokensPerDay), Metric.InputTokens, Window.Day, input, 0);
        Add(limits.OutputTokensPerMinute, nameof(limits.OutputTokensPerMinute), Metric.OutputTokens, Window.Minute, 0, multiplier);
        Add(limits.OutputTokensPerDay, nameof(limits.OutputTokensPerDay), Metric.OutputTokens, Window.Day, 0, multiplier);
        if (!concurrencyQueued)
        {
            Add(limits.MaxConcurrentRequests, nameof(limits.MaxConcurrentRequests), Metric.Concurrency, Window.Concurrent, 1, 0);
        }

        AddBudget(checks, scope, limits.BudgetPerDay, Window.CalendarDay, limits.Shadow.Contains(nameof(limits.BudgetPerDay)), demand);
        AddBudget(checks, scope, limits.BudgetPerMonth, Window.CalendarMonth, limits.Shadow.Contains(nameof(limits.BudgetPerMonth)), demand);
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

    /// <summary>Adds a spend check of <paramref name="dollars"/> over <paramref name="window"/>.</summary>
    public static void AddBudget(List<LimitCheck> checks, Scope scope, decimal? dollars, Window window, bool shadow, in RequestDemand demand)
    {
        if (dollars is { } d && Money.TryGetNanos(d, out long nanos))
        {
            // Pico-dollars: input priced as uncached (the worst case) and the fees, output per unit of cap.
            checks.Add(new LimitCheck(scope, Metric.Spend, window, nanos,
                Saturating.Add(demand.InputTokens * demand.Price.InputMicrosPerMillion, Saturating.Multiply(demand.FeeNanos, 1000)),
                demand.OutputMultiplier * demand.Price.OutputMicrosPerMillion, shadow));
        }
    }
}
