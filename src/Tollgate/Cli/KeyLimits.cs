using System.Globalization;
using Tollgate.Configuration;
using Tollgate.Pricing;

namespace Tollgate.Cli;

/// <summary>
/// Reads a key's overrides of plan settings (<c>--limit NAME=VALUE</c>, or an import item's <c>"limits"</c>). Names are
/// the limit names of <see cref="LimitsOptions"/> and a few plan fields (case-insensitive, stored as spelled there);
/// values are positive integers, or dollars with at most 9 decimals for budgets, stored in one canonical form.
/// </summary>
internal static class KeyLimits
{
    // Plan fields that are not limits but may be set per key too.
    private static readonly string[] _planFields =
    [
        nameof(PlanOptions.MaxInputTokens), nameof(PlanOptions.MaxOutputTokens), nameof(PlanOptions.DefaultMaxOutputTokens),
        nameof(PlanOptions.MaxN), nameof(PlanOptions.TaskBudgetPerDay),
    ];

    // Settings whose property is an int rather than a long.
    private static readonly string[] _intFields =
    [
        nameof(LimitsOptions.MaxConcurrentRequests), nameof(PlanOptions.MaxInputTokens), nameof(PlanOptions.MaxOutputTokens),
        nameof(PlanOptions.DefaultMaxOutputTokens), nameof(PlanOptions.MaxN),
    ];

    /// <summary>Every name a key may override, in the order they are listed to the user.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. LimitsOptions.LimitNames, .. _planFields];

    /// <summary>Parses repeated <c>NAME=VALUE</c> options; an empty list gives an empty map.</summary>
    /// <exception cref="CliUsageException">A pair is malformed, a name unknown or repeated, or a value invalid.</exception>
    public static Dictionary<string, string> ParsePairs(IEnumerable<string> pairs, string source)
    {
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in pairs)
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliUsageException($"{source} must be NAME=VALUE, e.g. RequestsPerMinute=60: '{pair}'.");
            }

            Add(overrides, pair[..equals].Trim(), pair[(equals + 1)..].Trim(), source);
        }

        return overrides;
    }

    /// <summary>Validates one override and adds it under its canonical name and value.</summary>
    /// <exception cref="CliUsageException">The name is unknown or already present, or the value invalid.</exception>
    public static void Add(Dictionary<string, string> overrides, string name, string value, string source)
    {
        string canonical = Canonical(name)
            ?? throw new CliUsageException($"{source}: unknown limit '{name}'. Limits: {string.Join(", ", Names)}.");
        if (!overrides.TryAdd(canonical, Normalize(canonical, value, source)))
        {
            throw new CliUsageException($"{source}: limit {canonical} is given more than once.");
        }
    }

    /// <summary>A copy of <paramref name="current"/> (none when null) with <paramref name="changes"/> set over it.</summary>
    public static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string>? current, IReadOnlyDictionary<string, string> changes)
    {
        var merged = current is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(current, StringComparer.Ordinal);
        foreach (var (name, value) in changes)
        {
            merged[name] = value;
        }

        return merged;
    }

    /// <summary>The overrides as <c>NAME=VALUE</c> pairs in name order, e.g. <c>MaxN=2, RequestsPerMinute=10</c>.</summary>
    public static string Format(IReadOnlyDictionary<string, string> overrides, string separator) =>
        string.Join(separator, Sorted(overrides).Select(p => $"{p.Key}={p.Value}"));

    /// <summary>The overrides ordered by name (ordinal), for stable output.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Sorted(IReadOnlyDictionary<string, string> overrides) =>
        overrides.OrderBy(p => p.Key, StringComparer.Ordinal);

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

    private static string Normalize(string name, string value, string source)
    {
        if (name.StartsWith("Budget", StringComparison.Ordinal) || name.StartsWith("TaskBudget", StringComparison.Ordinal))
        {
            return decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal dollars)
                && Money.TryGetNanos(dollars, out long nanos)
                ? Money.FormatDollars(nanos)
                : throw new CliUsageException($"{source}: {name} must be a positive dollar amount with at most 9 decimal places, e.g. 2.5: '{value}'.");
        }

        // MaxN has the range the configuration validator gives it; the others the range of their property's type.
        long max = name == nameof(PlanOptions.MaxN) ? 128 : _intFields.Contains(name) ? int.MaxValue : long.MaxValue;
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n >= 1 && n <= max
            ? n.ToString(CultureInfo.InvariantCulture)
            : throw new CliUsageException(string.Create(CultureInfo.InvariantCulture,
                $"{source}: {name} must be a whole number {(max == long.MaxValue ? "of at least 1" : $"from 1 to {max}")}: '{value}'."));
    }
}
