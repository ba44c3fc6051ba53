using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Tollgate.Configuration;
using Tollgate.Pricing;

namespace Tollgate.Limits;

/// <summary>
/// The one rule for a key's overrides of its plan (<c>keys create|update --limit NAME=VALUE</c>, <c>"limits"</c> in
/// <c>keys import</c>), used by the command line to accept them and by the gateway to apply them. Names are the
/// limit names of <see cref="LimitsOptions"/> and a few plan fields, matched case-insensitively. Values are written
/// in plain digits: whole numbers from 1 to the setting's maximum (<c>MaxN</c> 128, the <c>int</c> settings
/// 2,147,483,647), or, for budgets, positive dollars with at most 9 decimal places. No sign, no spaces, no group
/// separators, no exponent: <c>1,000</c>, <c>1e3</c>, <c>+5</c> and <c> 5</c> are invalid, and a value out of range is
/// rejected, never clamped.
/// </summary>
public static class KeyOverrides
{
    // Plan fields that are not limits but may be set per key too.
    private static readonly string[] _planFields =
    [
        nameof(PlanOptions.MaxInputTokens), nameof(PlanOptions.MaxOutputTokens), nameof(PlanOptions.DefaultMaxOutputTokens),
        nameof(PlanOptions.MaxN), nameof(PlanOptions.TaskBudgetPerDay),
    ];

    /// <summary>Every name a key may override, in the order they are listed to the user.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. LimitsOptions.LimitNames, .. _planFields];

    /// <summary>
    /// Validates one override and returns it in canonical form, or an error message that names the setting and the
    /// bad value (e.g. <c>MaxN must be a whole number from 1 to 128: '129'.</c>).
    /// </summary>
    /// <param name="name">The setting, in any letter case.</param>
    /// <param name="value">The value, exactly as given.</param>
    /// <param name="result">The canonical name and value, when valid.</param>
    /// <param name="error">Why it is invalid, when not.</param>
    /// <returns>Whether the override is valid.</returns>
    public static bool TryParse(string name, string value, out KeyOverride result, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        result = default;
        if (Canonical(name) is not { } canonical)
        {
            error = $"unknown limit '{name}'. Limits: {string.Join(", ", Names)}.";
            return false;
        }

        if (IsDollars(canonical))
        {
            if (decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal dollars)
                && Money.TryGetNanos(dollars, out long nanos))
            {
                result = new KeyOverride(canonical, Money.FormatDollars(nanos));
                error = null;
                return true;
            }

            error = $"{canonical} must be a positive dollar amount with at most 9 decimal places, e.g. 2.5: '{value}'.";
            return false;
        }

        long max = Maximum(canonical);
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n >= 1 && n <= max)
        {
            result = new KeyOverride(canonical, n.ToString(CultureInfo.InvariantCulture));
            error = null;
            return true;
        }

        error = string.Create(CultureInfo.InvariantCulture,
            $"{canonical} must be a whole number {(max == long.MaxValue ? "of at least 1" : $"from 1 to {max}")}: '{value}'.");
        return false;
    }

    /// <summary>
    /// A copy of <paramref name="plan"/> with the valid entries of <paramref name="overrides"/> applied. An invalid
    /// entry — unknown name, bad value, or a name given twice in different letter cases — is skipped, so the plan's
    /// own value applies for it.
    /// </summary>
    /// <param name="plan">The key's plan; not modified.</param>
    /// <param name="overrides">The key's stored overrides.</param>
    /// <returns>The effective plan of the key.</returns>
    public static PlanOptions ApplyTo(PlanOptions plan, IReadOnlyDictionary<string, string> overrides)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(overrides);
        var effective = plan.Clone();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var valid = new List<KeyOverride>(overrides.Count);
        foreach (var (name, value) in overrides)
        {
            string key = Canonical(name) ?? name;
            seen[key] = seen.GetValueOrDefault(key) + 1;
            if (TryParse(name, value, out var parsed, out _))
            {
                valid.Add(parsed);
            }
        }

        foreach (var item in valid)
        {
            if (seen[item.Name] == 1)
            {
                Set(effective, item);
            }
        }

        return effective;
    }

    private static string? Canonical(string name)
    {
        foreach (string known in Names)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }

    private static bool IsDollars(string name) =>
        name is nameof(PlanOptions.BudgetPerDay) or nameof(PlanOptions.BudgetPerMonth) or nameof(PlanOptions.TaskBudgetPerDay);

    // MaxN has the range the configuration validator gives it; the others the range of their property's type.
    private static long Maximum(string name) => name switch
    {
        nameof(PlanOptions.MaxN) => 128,
        nameof(PlanOptions.MaxConcurrentRequests) or nameof(PlanOptions.MaxInputTokens) or nameof(PlanOptions.MaxOutputTokens)
            or nameof(PlanOptions.DefaultMaxOutputTokens) => int.MaxValue,
        _ => long.MaxValue,
    };

    // Values are canonical here, so they parse as written.
    private static void Set(PlanOptions plan, KeyOverride item)
    {
        if (IsDollars(item.Name))
        {
            decimal dollars = decimal.Parse(item.Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            switch (item.Name)
            {
                case nameof(PlanOptions.BudgetPerDay): plan.BudgetPerDay = dollars; break;
                case nameof(PlanOptions.BudgetPerMonth): plan.BudgetPerMonth = dollars; break;
                default: plan.TaskBudgetPerDay = dollars; break;
            }

            return;
        }

        long n = long.Parse(item.Value, NumberStyles.None, CultureInfo.InvariantCulture);
        switch (item.Name)
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
            case nameof(PlanOptions.MaxConcurrentRequests): plan.MaxConcurrentRequests = (int)n; break;
            case nameof(PlanOptions.MaxInputTokens): plan.MaxInputTokens = (int)n; break;
            case nameof(PlanOptions.MaxOutputTokens): plan.MaxOutputTokens = (int)n; break;
            case nameof(PlanOptions.DefaultMaxOutputTokens): plan.DefaultMaxOutputTokens = (int)n; break;
            default: plan.MaxN = (int)n; break;
        }
    }
}
