using System.Globalization;

namespace Tollgate.Configuration;

/// <summary>Checks the resilience settings: an upstream's timeouts, quota, breaker, retries and cool-down, and each model's fallbacks.</summary>
internal static class ResilienceValidator
{
    /// <summary>The prefix of a fallback that names another upstream for the same model.</summary>
    public const string UpstreamPrefix = "upstream:";

    /// <summary>Adds every problem of <paramref name="upstream"/>'s resilience settings to <paramref name="errors"/>.</summary>
    public static void ValidateUpstream(string path, UpstreamOptions upstream, List<ConfigError> errors)
    {
        if (upstream.TotalTimeout is { } total && total <= TimeSpan.Zero)
        {
            errors.Add(new ConfigError($"{path}:TotalTimeout", "must be positive (or absent for none)", Duration(total)));
        }

        if (upstream.MaxRetryWait < TimeSpan.Zero || upstream.MaxRetryWait > TimeSpan.FromHours(1))
        {
            errors.Add(new ConfigError($"{path}:MaxRetryWait", "must be between 00:00:00 (off) and 01:00:00", Duration(upstream.MaxRetryWait)));
        }

        if (upstream.Limits is { } limits)
        {
            if (limits.RequestsPerMinute is < 1)
            {
                errors.Add(new ConfigError($"{path}:Limits:RequestsPerMinute", "must be at least 1", Str(limits.RequestsPerMinute.Value)));
            }

            if (limits.TokensPerMinute is < 1)
            {
                errors.Add(new ConfigError($"{path}:Limits:TokensPerMinute", "must be at least 1", Str(limits.TokensPerMinute.Value)));
            }

            if (limits.TenantSharePercent is < 1 or > 100)
            {
                errors.Add(new ConfigError($"{path}:Limits:TenantSharePercent", "must be between 1 and 100", Str(limits.TenantSharePercent.Value)));
            }
        }

        if (upstream.CircuitBreaker is { } breaker)
        {
            // Polly's own ranges, checked here so that a bad value is a configuration error, not a start-up crash.
            if (!(breaker.FailureRatio > 0 && breaker.FailureRatio <= 1))
            {
                errors.Add(new ConfigError($"{path}:CircuitBreaker:FailureRatio", "must be above 0 and at most 1",
                    breaker.FailureRatio.ToString(CultureInfo.InvariantCulture)));
            }

            if (breaker.MinimumThroughput < 2)
            {
                errors.Add(new ConfigError($"{path}:CircuitBreaker:MinimumThroughput", "must be at least 2", Str(breaker.MinimumThroughput)));
            }

            AtLeastHalfSecond($"{path}:CircuitBreaker:SamplingDuration", breaker.SamplingDuration, TimeSpan.FromDays(1), errors);
            AtLeastHalfSecond($"{path}:CircuitBreaker:BreakDuration", breaker.BreakDuration, TimeSpan.FromDays(1), errors);
        }

        if (upstream.Retry is { } retry)
        {
            if (retry.MaxRetries is < 0 or > 10)
            {
                errors.Add(new ConfigError($"{path}:Retry:MaxRetries", "must be between 0 and 10", Str(retry.MaxRetries)));
            }

            if (retry.Delay < TimeSpan.Zero || retry.Delay > TimeSpan.FromMinutes(1))
            {
                errors.Add(new ConfigError($"{path}:Retry:Delay", "must be between 00:00:00 and 00:01:00", Duration(retry.Delay)));
            }
        }
    }

    /// <summary>Checks that every fallback of model <paramref name="name"/> names another model of its type, or another upstream.</summary>
    /// <param name="path">The model's configuration path.</param>
    /// <param name="name">The model's name.</param>
    /// <param name="model">The model.</param>
    /// <param name="options">The whole configuration.</param>
    /// <param name="aliases">Every alias, to the path of the model it names.</param>
    /// <param name="errors">Where problems go.</param>
    public static void ValidateFallbacks(string path, string name, ModelOptions model, TollgateOptions options, IReadOnlyDictionary<string, string> aliases,
        List<ConfigError> errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < model.Fallbacks.Count; i++)
        {
            string entry = model.Fallbacks[i];
            string at = $"{path}:Fallbacks:{i}";
            if (!seen.Add(entry))
            {
                errors.Add(new ConfigError(at, "is listed twice", entry));
                continue;
            }

            if (entry.StartsWith(UpstreamPrefix, StringComparison.Ordinal))
            {
                string upstream = entry[UpstreamPrefix.Length..];
                if (!options.Upstreams.ContainsKey(upstream))
                {
                    errors.Add(new ConfigError(at, "no upstream has this name", entry));
                }
                else if (upstream == model.Upstream)
                {
                    errors.Add(new ConfigError(at, "is the model's own upstream", entry));
                }

                continue;
            }

            string? target = options.Models.ContainsKey(entry) ? entry
                : aliases.TryGetValue(entry, out string? targetPath) ? targetPath[(targetPath.LastIndexOf(':') + 1)..] : null;
            if (target is null)
            {
                errors.Add(new ConfigError(at, $"no model or alias has this name (a model, or '{UpstreamPrefix}NAME' for another upstream)", entry));
            }
            else if (target == name)
            {
                errors.Add(new ConfigError(at, "is the model itself", entry));
            }
            else if (options.Models[target].Type != model.Type)
            {
                errors.Add(new ConfigError(at, $"must be a model of the same type ('{model.Type}')", entry));
            }
        }
    }

    private static void AtLeastHalfSecond(string path, TimeSpan value, TimeSpan max, List<ConfigError> errors)
    {
        if (value < TimeSpan.FromMilliseconds(500) || value > max)
        {
            errors.Add(new ConfigError(path, $"must be between 00:00:00.500 and {Duration(max)}", Duration(value)));
        }
    }

    private static string Duration(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}
