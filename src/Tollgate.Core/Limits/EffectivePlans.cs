using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Tollgate.Configuration;

namespace Tollgate.Limits;

/// <summary>A plan with a key's overrides applied, computed once per (configuration, plan, overrides).</summary>
public static class EffectivePlans
{
    private static readonly ConditionalWeakTable<GatewayConfig, ConcurrentDictionary<string, PlanOptions>> _cache = [];

    /// <summary>
    /// The plan <paramref name="planName"/> of <paramref name="config"/> with <paramref name="overrides"/> applied by
    /// the rule of <see cref="KeyOverrides"/> (an invalid override is skipped: the plan's value applies); null when
    /// the plan does not exist.
    /// </summary>
    public static PlanOptions? Get(GatewayConfig config, string planName, IReadOnlyDictionary<string, string>? overrides)
    {
        if (!config.Options.Plans.TryGetValue(planName, out var plan))
        {
            return null;
        }

        if (overrides is null || overrides.Count == 0)
        {
            return plan;
        }

        string cacheKey = planName + "\u0001" + string.Join('\u0001', overrides.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => o.Key + "=" + o.Value));
        return _cache.GetOrCreateValue(config).GetOrAdd(cacheKey, static (_, state) => KeyOverrides.ApplyTo(state.Plan, state.Overrides), (Plan: plan, Overrides: overrides));
    }
}
