using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Tollgate.Configuration;

namespace Tollgate.Limits;

/// <summary>A plan with a key's overrides applied, computed once per (configuration, plan, overrides).</summary>
public static class EffectivePlans
{
    /// <summary>Settings a key may override besides the limits.</summary>
    public static readonly IReadOnlyList<string> PlanSettingNames =
        [nameof(PlanOptions.MaxInputTokens), nameof(PlanOptions.MaxOutputTokens), nameof(PlanOptions.DefaultMaxOutputTokens), nameof(PlanOptions.MaxN), nameof(PlanOptions.TaskBudgetPerDay)];

    private static readonly ConditionalWeakTable<GatewayConfig, ConcurrentDictionary<string, PlanOptions>> s_cache = [];

    /// <summary>The plan <paramref name="planName"/> of <paramref name="config"/> with <paramref name="overrides"/> applied; null when the plan does not exist.</summary>
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
        return s_cache.GetOrCreateValue(config).GetOrAdd(cacheKey, _ => Apply(plan.Clone(), overrides));
    }

    /// <summary>Whether <paramref name="name"/>=<paramref name="value"/> is a valid override.</summary>
    public static bool IsValidOverride(string name, string value) =>
        TryApply(new PlanOptions(), name, value);

    private static PlanOptions Apply(PlanOptions plan, IReadOnlyDictionary<string, string> overrides)
    {
        foreach (var (name, value) in overrides)
        {
            TryApply(plan, name, value);
        }

        return plan;
    }

    private static bool TryApply(PlanOptions plan, string name, string value)
    {
        if (name is nameof(PlanOptions.BudgetPerDay) or nameof(PlanOptions.BudgetPerMonth) or nameof(PlanOptions.TaskBudgetPerDay))
        {
            if (!decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out decimal dollars) || !Pricing.Money.TryGetNanos(dollars, out _))
            {
                return false;
            }

            switch (name)
            {
                case nameof(PlanOptions.BudgetPerDay): plan.BudgetPerDay = dollars; break;
                case nameof(PlanOptions.BudgetPerMonth): plan.BudgetPerMonth = dollars; break;
                default: plan.TaskBudgetPerDay = dollars; break;
            }

            return true;
        }

        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n < 1)
        {
            return false;
        }

        int i = (int)Math.Min(n, int.MaxValue);
        switch (name)
        {
            case nameof(PlanOptions.RequestsPerMinute): plan.RequestsPerMinute = n; break;
            case nameof(PlanOptions.RequestsPerHour): plan.RequestsPerHour = n; break;
            case nameof(PlanOptions.RequestsPerDay): plan.RequestsPerDay = n; break;
            case nameof(PlanOptions.TokensPerMinute): plan.TokensPerMinute = n; break;
            case nameof(PlanOptions.TokensPerHour): plan.TokensPerHour = n; break;
            case nameof(PlanOptions.TokensPerDay): plan.TokensPerDay = n; break;
            case nameof(PlanOptions.InputTokensPerMinute): plan.InputTokensPerMinute = n; break;
            case nameof(PlanOptions.InputTokensPerDay): plan.InputTokensPerDay = n; break;
            case nameof(PlanOptions.OutputTokensPerMinute): plan.OutputTokensPerMinute = n; break;
            case nameof(PlanOptions.OutputTokensPerDay): plan.OutputTokensPerDay = n; break;
            case nameof(PlanOptions.MaxConcurrentRequests): plan.MaxConcurrentRequests = i; break;
            case nameof(PlanOptions.MaxInputTokens): plan.MaxInputTokens = i; break;
            case nameof(PlanOptions.MaxOutputTokens): plan.MaxOutputTokens = i; break;
            case nameof(PlanOptions.DefaultMaxOutputTokens): plan.DefaultMaxOutputTokens = i; break;
            case nameof(PlanOptions.MaxN) when n <= 128: plan.MaxN = i; break;
            default: return false;
        }

        return true;
    }
}
