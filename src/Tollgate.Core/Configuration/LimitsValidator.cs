using System.Globalization;
using Tollgate.Pricing;

namespace Tollgate.Configuration;

/// <summary>Validates <see cref="LimitsOptions"/> wherever they appear (plans, tenants, global, source addresses).</summary>
internal static class LimitsValidator
{
    public static void Validate(string path, LimitsOptions limits, List<ConfigError> errors)
    {
        foreach (var (name, value) in Values(limits))
        {
            if (value is < 1)
            {
                errors.Add(new ConfigError($"{path}:{name}", "must be at least 1 (leave it out for no limit)", value.Value.ToString(CultureInfo.InvariantCulture)));
            }
        }

        Budget($"{path}:BudgetPerDay", limits.BudgetPerDay, errors);
        Budget($"{path}:BudgetPerMonth", limits.BudgetPerMonth, errors);
        for (int i = 0; i < limits.Shadow.Count; i++)
        {
            if (!LimitsOptions.LimitNames.Contains(limits.Shadow[i]))
            {
                errors.Add(new ConfigError($"{path}:Shadow:{i}", $"is not a limit name (one of {string.Join(", ", LimitsOptions.LimitNames)})", limits.Shadow[i]));
            }
        }
    }

    public static void Budget(string path, decimal? dollars, List<ConfigError> errors)
    {
        if (dollars is { } d && !Money.TryGetNanos(d, out _))
        {
            errors.Add(new ConfigError(path, "must be a positive dollar amount with at most 9 decimal places", d.ToString(CultureInfo.InvariantCulture)));
        }
    }

    public static void TimeZone(string path, string? zone, List<ConfigError> errors)
    {
        if (zone is not null && !TryFindTimeZone(zone, out _))
        {
            errors.Add(new ConfigError(path, "is not a known IANA time zone (e.g. UTC, Europe/Berlin)", zone));
        }
    }

    public static bool TryFindTimeZone(string id, out TimeZoneInfo zone)
    {
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            zone = TimeZoneInfo.Utc;
            return false;
        }
    }

    private static IEnumerable<(string Name, long? Value)> Values(LimitsOptions l) =>
    [
        (nameof(l.RequestsPerMinute), l.RequestsPerMinute), (nameof(l.RequestsPerHour), l.RequestsPerHour), (nameof(l.RequestsPerDay), l.RequestsPerDay),
        (nameof(l.TokensPerMinute), l.TokensPerMinute), (nameof(l.TokensPerHour), l.TokensPerHour), (nameof(l.TokensPerDay), l.TokensPerDay),
        (nameof(l.InputTokensPerMinute), l.InputTokensPerMinute), (nameof(l.InputTokensPerDay), l.InputTokensPerDay),
        (nameof(l.OutputTokensPerMinute), l.OutputTokensPerMinute), (nameof(l.OutputTokensPerDay), l.OutputTokensPerDay),
        (nameof(l.MaxConcurrentRequests), l.MaxConcurrentRequests),
    ];
}
