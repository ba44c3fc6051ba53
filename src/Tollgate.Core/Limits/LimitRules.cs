using Tollgate.Collections;
using Tollgate.Configuration;
using Tollgate.Pricing;

namespace Tollgate.Limits;

/// <summary>
/// One configured limit on one scope, without a request's amounts: what <see cref="LimitPlanner"/> works out once per
/// scope (its counter id and name, the shadow flag) so that a request's checks only add what it may consume.
/// </summary>
/// <param name="Scope">The scope.</param>
/// <param name="Metric">What is counted.</param>
/// <param name="Window">Over which window.</param>
/// <param name="Limit">The most allowed (nano-dollars for spend).</param>
/// <param name="Shadow">Evaluated and counted, but never refuses.</param>
internal readonly record struct LimitRule(Scope Scope, Metric Metric, Window Window, long Limit, bool Shadow)
{
    // Get-only, so that no `with` copy can keep a shared check (below) made for other values.
    public Scope Scope { get; } = Scope;

    public Metric Metric { get; } = Metric;

    public Window Window { get; } = Window;

    public long Limit { get; } = Limit;

    public bool Shadow { get; } = Shadow;

    // A request count or a concurrency slot is one per request whatever it asks for: its check is made once, here, and
    // shared by every request (a LimitCheck is immutable).
    private readonly LimitCheck? _perRequest = Metric is Metric.Requests or Metric.Concurrency
        ? new LimitCheck(Scope, Metric, Window, Limit, 1, 0, Shadow)
        : null;

    /// <summary>The check of this limit for a request of <paramref name="demand"/>.</summary>
    public LimitCheck For(in RequestDemand demand)
    {
        if (_perRequest is not null)
        {
            return _perRequest;
        }

        var (fixedAmount, perOutput) = Metric switch
        {
            Metric.Tokens => (demand.InputTokens, demand.OutputMultiplier),
            Metric.InputTokens => (demand.InputTokens, 0L),
            Metric.OutputTokens => (0L, demand.OutputMultiplier),
            // Pico-dollars: input priced as uncached (the worst case) and the fees, output per unit of cap.
            Metric.Spend => (Saturating.Add(demand.InputTokens * demand.Price.InputMicrosPerMillion, Saturating.Multiply(demand.FeeNanos, 1000)),
                demand.OutputMultiplier * demand.Price.OutputMicrosPerMillion),
            _ => (1L, 0L),
        };
        return new LimitCheck(Scope, Metric, Window, Limit, fixedAmount, perOutput, Shadow);
    }
}

/// <summary>
/// The <see cref="LimitRule"/>s of one configuration: a caller's (its key, user and tenant), a source address's, and
/// the gateway's. Built on first use and kept with the configuration, which a reload replaces whole; bounded, and
/// emptied when full (<see cref="ClearingMap{TKey, TValue}"/>: the callers that come next fill it again).
/// </summary>
internal sealed class LimitRules(GatewayConfig config)
{
    /// <summary>Callers, and source addresses, whose rules are kept.</summary>
    internal const int Capacity = 4096;

    private readonly ClearingMap<string, CallerRules> _callers = new(Capacity, StringComparer.Ordinal);
    private readonly ClearingMap<string, LimitRule[]> _sources = new(Capacity, StringComparer.Ordinal);
    private LimitRule[]? _global;
    private int _sourceLimits; // 0: not known yet, 1: some, 2: none (an int: read and written whole)

    /// <summary>The rules of the key <paramref name="keyId"/> of <paramref name="user"/> of <paramref name="tenant"/>, under <paramref name="plan"/>.</summary>
    public LimitRule[] Caller(PlanOptions plan, string keyId, string tenant, string user)
    {
        // A key's plan (its overrides applied), tenant and user are checked, not assumed: a key whose plan changes
        // in the key store gets new rules on its next request.
        if (_callers.TryGetValue(keyId, out var kept) && ReferenceEquals(kept.Plan, plan) && kept.Tenant == tenant && kept.User == user)
        {
            return kept.Rules;
        }

        var zone = config.TimeZoneFor(tenant);
        var rules = new List<LimitRule>(24);
        Add(rules, new Scope(ScopeKind.Key, "k:" + keyId, "key " + keyId, zone), plan);
        Add(rules, new Scope(ScopeKind.User, "u:" + tenant + "/" + user, "user " + user, zone), plan);
        Add(rules, new Scope(ScopeKind.Tenant, "t:" + tenant, "tenant " + tenant, zone), config.TenantLimits(tenant));
        var built = rules.ToArray();
        _callers.Set(keyId, new CallerRules(plan, tenant, user, built));
        return built;
    }

    /// <summary>The rules of the source address <paramref name="source"/> (IPv6 grouped by /64), in <paramref name="zone"/>.</summary>
    public LimitRule[] Source(string source, TimeZoneInfo zone)
    {
        // Without source-address limits there is nothing to keep per address (a caller rotating addresses fills nothing).
        if (Volatile.Read(ref _sourceLimits) == 2)
        {
            return [];
        }

        // Its calendar windows follow the caller's tenant's zone: the zone is part of what is kept.
        if (_sources.TryGetValue(source, out var kept) && ReferenceEquals(kept[0].Scope.TimeZone, zone))
        {
            return kept;
        }

        var rules = new List<LimitRule>(16);
        Add(rules, new Scope(ScopeKind.SourceAddress, "ip:" + source, "address " + source, zone), config.Options.SourceAddresses);
        Volatile.Write(ref _sourceLimits, rules.Count > 0 ? 1 : 2);
        if (rules.Count == 0)
        {
            return [];
        }

        var built = rules.ToArray();
        _sources.Set(source, built);
        return built;
    }

    /// <summary>The gateway's own rules. Its concurrency is the shedding queue's (before admission), unless that runs in shadow mode.</summary>
    public LimitRule[] Global => _global ??= Build(new Scope(ScopeKind.Global, "g", "gateway", config.GlobalTimeZone), config.Options.Global,
        concurrencyQueued: !Shedding.QueueSettings.IsShadowed(config.Options.Global));

    /// <summary>How many callers' rules are kept (tests).</summary>
    internal int CallerCount => _callers.Count;

    /// <summary>How many source addresses' rules are kept (tests).</summary>
    internal int SourceCount => _sources.Count;

    private static LimitRule[] Build(Scope scope, LimitsOptions limits, bool concurrencyQueued)
    {
        var rules = new List<LimitRule>(16);
        Add(rules, scope, limits, concurrencyQueued);
        return rules.ToArray();
    }


    /// <summary>
    /// Adds a rule for every limit set in <paramref name="limits"/> on <paramref name="scope"/>; with
    /// <paramref name="concurrencyQueued"/>, all but <c>MaxConcurrentRequests</c>, which a queue enforces instead.
    /// </summary>
    private static void Add(List<LimitRule> rules, Scope scope, LimitsOptions limits, bool concurrencyQueued = false)
    {
        void Add(long? limit, string name, Metric metric, Window window)
        {
            if (limit is { } value)
            {
                rules.Add(new LimitRule(scope, metric, window, value, limits.Shadow.Contains(name)));
            }
        }

        Add(limits.RequestsPerMinute, nameof(limits.RequestsPerMinute), Metric.Requests, Window.Minute);
        Add(limits.RequestsPerHour, nameof(limits.RequestsPerHour), Metric.Requests, Window.Hour);
        Add(limits.RequestsPerDay, nameof(limits.RequestsPerDay), Metric.Requests, Window.Day);
        Add(limits.TokensPerMinute, nameof(limits.TokensPerMinute), Metric.Tokens, Window.Minute);
        Add(limits.TokensPerHour, nameof(limits.TokensPerHour), Metric.Tokens, Window.Hour);
        Add(limits.TokensPerDay, nameof(limits.TokensPerDay), Metric.Tokens, Window.Day);
        Add(limits.InputTokensPerMinute, nameof(limits.InputTokensPerMinute), Metric.InputTokens, Window.Minute);
        Add(limits.InputTokensPerDay, nameof(limits.InputTokensPerDay), Metric.InputTokens, Window.Day);
        Add(limits.OutputTokensPerMinute, nameof(limits.OutputTokensPerMinute), Metric.OutputTokens, Window.Minute);
        Add(limits.OutputTokensPerDay, nameof(limits.OutputTokensPerDay), Metric.OutputTokens, Window.Day);
        if (!concurrencyQueued)
        {
            Add(limits.MaxConcurrentRequests, nameof(limits.MaxConcurrentRequests), Metric.Concurrency, Window.Concurrent);
        }

        Budget(rules, scope, limits.BudgetPerDay, Window.CalendarDay, limits.Shadow.Contains(nameof(limits.BudgetPerDay)));
        Budget(rules, scope, limits.BudgetPerMonth, Window.CalendarMonth, limits.Shadow.Contains(nameof(limits.BudgetPerMonth)));
    }

    /// <summary>Adds a spend rule of <paramref name="dollars"/> over <paramref name="window"/>.</summary>
    internal static void Budget(List<LimitRule> rules, Scope scope, decimal? dollars, Window window, bool shadow)
    {
        if (dollars is { } d && Money.TryGetNanos(d, out long nanos))
        {
            rules.Add(new LimitRule(scope, Metric.Spend, window, nanos, shadow));
        }
    }

    private sealed record CallerRules(PlanOptions Plan, string Tenant, string User, LimitRule[] Rules);
}
