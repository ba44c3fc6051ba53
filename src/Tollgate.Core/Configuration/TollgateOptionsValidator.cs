using System.Globalization;
using Tollgate.Pricing;
using Tollgate.Tokenization;
using Tollgate.Validation;

namespace Tollgate.Configuration;

/// <summary>Checks a whole configuration and reports every error, not just the first.</summary>
public static class TollgateOptionsValidator
{
    private const string Root = TollgateOptions.SectionName;

    /// <summary>Adds every problem of <paramref name="options"/> to <paramref name="errors"/>.</summary>
    public static void Validate(TollgateOptions options, List<ConfigError> errors)
    {
        if (options.Upstreams.Count == 0)
        {
            errors.Add(new ConfigError($"{Root}:Upstreams", "at least one upstream is required"));
        }

        foreach (var (name, upstream) in options.Upstreams)
        {
            ValidateUpstream($"{Root}:Upstreams:{name}", upstream, errors);
        }

        if (options.Models.Count == 0)
        {
            errors.Add(new ConfigError($"{Root}:Models", "at least one model is required"));
        }

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, model) in options.Models)
        {
            string path = $"{Root}:Models:{name}";
            ValidateModel(path, model, options, errors);
            foreach (string alias in model.Aliases)
            {
                if (options.Models.ContainsKey(alias) || !names.TryAdd(alias, path))
                {
                    errors.Add(new ConfigError($"{path}:Aliases", "alias is already the name or alias of another model", alias));
                }
            }
        }

        foreach (var (name, model) in options.Models)
        {
            ResilienceValidator.ValidateFallbacks($"{Root}:Models:{name}", name, model, options, names, errors);
        }

        foreach (var (name, plan) in options.Plans)
        {
            for (int i = 0; i < plan.Models.Count; i++)
            {
                string model = plan.Models[i];
                if (model != "*" && !options.Models.ContainsKey(model) && !names.ContainsKey(model))
                {
                    errors.Add(new ConfigError($"{Root}:Plans:{name}:Models:{i}", "no model or alias has this name", model));
                }
            }
        }

        foreach (var (name, plan) in options.Plans)
        {
            ValidatePlan($"{Root}:Plans:{name}", plan, errors);
        }

        foreach (var (name, tenant) in options.Tenants)
        {
            LimitsValidator.Validate($"{Root}:Tenants:{name}", tenant, errors);
            LimitsValidator.TimeZone($"{Root}:Tenants:{name}:TimeZone", tenant.TimeZone, errors);
        }

        LimitsValidator.Validate($"{Root}:TenantDefaults", options.TenantDefaults, errors);
        LimitsValidator.TimeZone($"{Root}:TenantDefaults:TimeZone", options.TenantDefaults.TimeZone, errors);
        LimitsValidator.Validate($"{Root}:Global", options.Global, errors);
        LimitsValidator.TimeZone($"{Root}:Global:TimeZone", options.Global.TimeZone, errors);
        LimitsValidator.Validate($"{Root}:SourceAddresses", options.SourceAddresses, errors);
        for (int i = 0; i < options.SourceAddresses.TrustedProxies.Count; i++)
        {
            string proxy = options.SourceAddresses.TrustedProxies[i];
            if (!System.Net.IPNetwork.TryParse(proxy, out _) && !System.Net.IPAddress.TryParse(proxy, out _))
            {
                errors.Add(new ConfigError($"{Root}:SourceAddresses:TrustedProxies:{i}", "must be an IP address or CIDR range", proxy));
            }
        }

        ValidateEdge(options, errors);
        SheddingValidator.Validate(Root, options, errors);
        RepetitionOptionsValidator.Validate(options.Repetition, $"{Root}:Repetition", errors);
    }

    private static void ValidatePlan(string path, PlanOptions plan, List<ConfigError> errors)
    {
        LimitsValidator.Validate(path, plan, errors);
        if (plan.MaxInputTokens is < 1)
        {
            errors.Add(new ConfigError($"{path}:MaxInputTokens", "must be at least 1", Str(plan.MaxInputTokens.Value)));
        }

        if (plan.MaxOutputTokens is < 1)
        {
            errors.Add(new ConfigError($"{path}:MaxOutputTokens", "must be at least 1", Str(plan.MaxOutputTokens.Value)));
        }

        if (plan.DefaultMaxOutputTokens is { } d && (d < 1 || d > (plan.MaxOutputTokens ?? int.MaxValue)))
        {
            errors.Add(new ConfigError($"{path}:DefaultMaxOutputTokens", "must be between 1 and MaxOutputTokens", Str(d)));
        }

        if (plan.OutputCapPolicy is not (OutputCapPolicies.Refuse or OutputCapPolicies.Clamp))
        {
            errors.Add(new ConfigError($"{path}:OutputCapPolicy", $"must be '{OutputCapPolicies.Refuse}' or '{OutputCapPolicies.Clamp}'", plan.OutputCapPolicy));
        }

        if (plan.MaxN is < 1 or > 128)
        {
            errors.Add(new ConfigError($"{path}:MaxN", "must be between 1 and 128", Str(plan.MaxN)));
        }

        if (plan.BudgetWarningPercent is < 0 or > 100)
        {
            errors.Add(new ConfigError($"{path}:BudgetWarningPercent", "must be between 0 (off) and 100", Str(plan.BudgetWarningPercent)));
        }

        LimitsValidator.Budget($"{path}:TaskBudgetPerDay", plan.TaskBudgetPerDay, errors);
        if (plan.MaxTasksPerKey < 1)
        {
            errors.Add(new ConfigError($"{path}:MaxTasksPerKey", "must be at least 1", Str(plan.MaxTasksPerKey)));
        }

        for (int i = 0; i < plan.TaskHeaders.Count; i++)
        {
            string header = plan.TaskHeaders[i];
            if (string.IsNullOrEmpty(header) || header.Length > 64 || !header.All(IsHeaderNameChar))
            {
                errors.Add(new ConfigError($"{path}:TaskHeaders:{i}", "must be a header name (1-64 letters, digits and '-', '_', '.')", header));
            }
        }

        if (plan.CacheNamespace is not (CacheNamespaces.Tenant or CacheNamespaces.User or CacheNamespaces.Shared))
        {
            errors.Add(new ConfigError($"{path}:CacheNamespace",
                $"must be '{CacheNamespaces.Tenant}', '{CacheNamespaces.User}' or '{CacheNamespaces.Shared}'", plan.CacheNamespace));
        }

        if (plan.CacheHitPricePercent is < 0 or > 100)
        {
            errors.Add(new ConfigError($"{path}:CacheHitPricePercent", "must be between 0 (free) and 100 (the full price)", Str(plan.CacheHitPricePercent)));
        }

        HostedToolsValidator.ValidatePlan(path, plan, errors);
    }

    private static void ValidateUpstream(string path, UpstreamOptions upstream, List<ConfigError> errors)
    {
        switch (upstream.Kind)
        {
            case UpstreamKinds.OpenAI:
            case UpstreamKinds.Anthropic:
            case UpstreamKinds.AzureOpenAI:
                if (!Uri.TryCreate(upstream.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    errors.Add(new ConfigError($"{path}:BaseUrl", "must be an absolute http or https URL", upstream.BaseUrl));
                }

                break;
            case UpstreamKinds.Simulator:
                break;
            default:
                errors.Add(new ConfigError($"{path}:Kind", $"must be '{UpstreamKinds.OpenAI}', '{UpstreamKinds.Anthropic}', '{UpstreamKinds.AzureOpenAI}' or '{UpstreamKinds.Simulator}'", upstream.Kind));
                break;
        }

        if (upstream.Apis is { } apis)
        {
            foreach (string api in apis)
            {
                if (!UpstreamApis.All.Contains(api, StringComparer.Ordinal))
                {
                    errors.Add(new ConfigError($"{path}:Apis", $"must list only {string.Join(", ", UpstreamApis.All)}", api));
                }
            }
        }

        if (upstream.Kind == UpstreamKinds.AzureOpenAI && !IsApiVersion(upstream.AzureApiVersion))
        {
            errors.Add(new ConfigError($"{path}:AzureApiVersion", "must be an Azure OpenAI API version such as 2024-10-21 or 2025-04-01-preview", upstream.AzureApiVersion));
        }

        if (upstream.ApiKeyEnv is { Length: > 0 } env && !IsEnvironmentVariableName(env))
        {
            errors.Add(new ConfigError($"{path}:ApiKeyEnv", "must be the name of an environment variable (letters, digits, '_'), not a key", Redact(env)));
        }

        Positive($"{path}:ConnectTimeout", upstream.ConnectTimeout, errors);
        Positive($"{path}:ResponseTimeout", upstream.ResponseTimeout, errors);
        Positive($"{path}:IdleTimeout", upstream.IdleTimeout, errors);
        ResilienceValidator.ValidateUpstream(path, upstream, errors);
        foreach (var outcome in Enum.GetValues<UnknownOutcome>())
        {
            string rule = upstream.UnknownOutcomes.RuleFor(outcome);
            string name = outcome.ToString();
            if (rule is not (BillingRules.Reservation or BillingRules.Estimate or BillingRules.None))
            {
                errors.Add(new ConfigError($"{path}:UnknownOutcomes:{name}", "must be 'reservation', 'estimate' or 'none'", rule));
            }
            else if (rule == BillingRules.None && !BillingRules.NothingArrived(outcome))
            {
                errors.Add(new ConfigError($"{path}:UnknownOutcomes:{name}",
                    "cannot be 'none': response bytes arrived, so the upstream may have billed output; use 'estimate' or 'reservation'", rule));
            }
        }

        NotNegative($"{path}:Simulator:TimeToFirstToken", upstream.Simulator.TimeToFirstToken, errors);
        NotNegative($"{path}:Simulator:TimePerToken", upstream.Simulator.TimePerToken, errors);
    }

    private static void ValidateModel(string path, ModelOptions model, TollgateOptions options, List<ConfigError> errors)
    {
        if (!options.Upstreams.ContainsKey(model.Upstream))
        {
            errors.Add(new ConfigError($"{path}:Upstream", "no upstream has this name", model.Upstream));
        }

        if (model.Type is not (ModelTypes.Chat or ModelTypes.Embedding))
        {
            errors.Add(new ConfigError($"{path}:Type", $"must be '{ModelTypes.Chat}' or '{ModelTypes.Embedding}'", model.Type));
        }

        Price($"{path}:Prices:Input", model.Prices.Input, errors);
        if (model.Prices.CachedInput is { } cached)
        {
            Price($"{path}:Prices:CachedInput", cached, errors);
        }

        Price($"{path}:Prices:Output", model.Prices.Output, errors);
        if (model.Prices.CacheWrite5m is { } write5m)
        {
            Price($"{path}:Prices:CacheWrite5m", write5m, errors);
        }

        if (model.Prices.CacheWrite1h is { } write1h)
        {
            Price($"{path}:Prices:CacheWrite1h", write1h, errors);
        }

        HostedToolsValidator.ValidateFees(path, model.Prices, errors);
        for (int i = 0; i < model.Prices.CoveredBetas.Count; i++)
        {
            if (!model.PriceChangingBetas.Contains(model.Prices.CoveredBetas[i]))
            {
                errors.Add(new ConfigError($"{path}:Prices:CoveredBetas:{i}", "is not one of the model's PriceChangingBetas", model.Prices.CoveredBetas[i]));
            }
        }

        for (int i = 0; i < model.PriceChangingBetas.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(model.PriceChangingBetas[i]) || model.PriceChangingBetas[i].Contains(','))
            {
                errors.Add(new ConfigError($"{path}:PriceChangingBetas:{i}", "must be one beta name (no commas)", model.PriceChangingBetas[i]));
            }
        }

        if (model.DocumentTokens is < 1 or > 10_000_000)
        {
            errors.Add(new ConfigError($"{path}:DocumentTokens", "must be between 1 and 10000000", Str(model.DocumentTokens.Value)));
        }
        if (model.ContextWindow <= 0)
        {
            errors.Add(new ConfigError($"{path}:ContextWindow", "must be positive", Str(model.ContextWindow)));
        }

        if (model.MaxOutputTokens <= 0 || model.MaxOutputTokens > model.ContextWindow)
        {
            errors.Add(new ConfigError($"{path}:MaxOutputTokens", "must be positive and at most ContextWindow", Str(model.MaxOutputTokens)));
        }

        if (!TokenEncoding.IsKnown(model.Encoding))
        {
            errors.Add(new ConfigError($"{path}:Encoding",
                $"must be '{TokenEncoding.O200kBase}', '{TokenEncoding.Cl100kBase}' or '{TokenEncoding.Approximate}'", model.Encoding));
        }

        if (model.OutputCapParameter is not ("max_completion_tokens" or "max_tokens"))
        {
            errors.Add(new ConfigError($"{path}:OutputCapParameter", "must be 'max_completion_tokens' or 'max_tokens'", model.OutputCapParameter));
        }

        if (model.ApproximationMarginPercent is < 0 or > 400)
        {
            errors.Add(new ConfigError($"{path}:ApproximationMarginPercent", "must be between 0 and 400", Str(model.ApproximationMarginPercent)));
        }

        if (model.StreamCutMarginPercent is < 0 or > 1000)
        {
            errors.Add(new ConfigError($"{path}:StreamCutMarginPercent", "must be between 0 and 1000", Str(model.StreamCutMarginPercent.Value)));
        }
    }

    private static void ValidateEdge(TollgateOptions options, List<ConfigError> errors)
    {
        var g = options.Gateway;
        if (g.MaxRequestBodyBytes is < 1024 or > 256L * 1024 * 1024)
        {
            errors.Add(new ConfigError($"{Root}:Gateway:MaxRequestBodyBytes", "must be between 1024 and 268435456", Str(g.MaxRequestBodyBytes)));
        }

        if (g.MaxResponseBodyBytes < 1024)
        {
            errors.Add(new ConfigError($"{Root}:Gateway:MaxResponseBodyBytes", "must be at least 1024", Str(g.MaxResponseBodyBytes)));
        }

        NotNegative($"{Root}:Gateway:AbandonedStreamUsageWait", g.AbandonedStreamUsageWait, errors);
        NotNegative($"{Root}:Gateway:DrainTimeout", g.DrainTimeout, errors);
        NotNegative($"{Root}:Gateway:StreamKeepAliveInterval", g.StreamKeepAliveInterval, errors);
        Positive($"{Root}:Gateway:BackgroundPollInterval", g.BackgroundPollInterval, errors);
        Positive($"{Root}:Gateway:BackgroundMaxLifetime", g.BackgroundMaxLifetime, errors);
        if (g.BackgroundPollInterval > TimeSpan.Zero && g.BackgroundMaxLifetime < g.BackgroundPollInterval)
        {
            errors.Add(new ConfigError($"{Root}:Gateway:BackgroundMaxLifetime", "must be at least Gateway:BackgroundPollInterval", g.BackgroundMaxLifetime.ToString("c", CultureInfo.InvariantCulture)));
        }
        Positive($"{Root}:Ledger:FlushInterval", options.Ledger.FlushInterval, errors);
        Positive($"{Root}:Ledger:BusyTimeout", options.Ledger.BusyTimeout, errors);
        Positive($"{Root}:Ledger:ReadinessProbeInterval", options.Ledger.ReadinessProbeInterval, errors);
        if (options.Ledger.MaxBatchSize is < 1 or > 100_000)
        {
            errors.Add(new ConfigError($"{Root}:Ledger:MaxBatchSize", "must be between 1 and 100000", Str(options.Ledger.MaxBatchSize)));
        }

        if (options.Ledger.MaxPendingRecords < options.Ledger.MaxBatchSize)
        {
            errors.Add(new ConfigError($"{Root}:Ledger:MaxPendingRecords", "must be at least MaxBatchSize", Str(options.Ledger.MaxPendingRecords)));
        }

        if (options.Ledger.RetentionDays < 0)
        {
            errors.Add(new ConfigError($"{Root}:Ledger:RetentionDays", "must be zero (keep forever) or positive", Str(options.Ledger.RetentionDays)));
        }

        ValidateCache(options.Cache, errors);
        if (options.Metrics.Enabled && !Uri.TryCreate(options.Metrics.Urls, UriKind.Absolute, out _))
        {
            errors.Add(new ConfigError($"{Root}:Metrics:Urls", "must be an absolute URL", options.Metrics.Urls));
        }
    }

    private static void ValidateCache(CacheOptions cache, List<ConfigError> errors)
    {
        Positive($"{Root}:Cache:Ttl", cache.Ttl, errors);
        if (cache.MaxEntries < 1)
        {
            errors.Add(new ConfigError($"{Root}:Cache:MaxEntries", "must be at least 1", Str(cache.MaxEntries)));
        }

        if (cache.MaxEntryBytes < 1024)
        {
            errors.Add(new ConfigError($"{Root}:Cache:MaxEntryBytes", "must be at least 1024", Str(cache.MaxEntryBytes)));
        }

        if (cache.MaxBytes < cache.MaxEntryBytes)
        {
            errors.Add(new ConfigError($"{Root}:Cache:MaxBytes", "must be at least MaxEntryBytes", Str(cache.MaxBytes)));
        }
    }

    private static void Price(string path, decimal value, List<ConfigError> errors)
    {
        if (!Money.TryGetMicrosPerMillion(value, out _))
        {
            errors.Add(new ConfigError(path,
                "must be a dollar amount per million tokens between 0 and 1000000 with at most 6 decimal places (Tollgate charges exactly in integer units)",
                value.ToString(CultureInfo.InvariantCulture)));
        }
    }

    private static void Positive(string path, TimeSpan value, List<ConfigError> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add(new ConfigError(path, "must be positive", value.ToString("c", CultureInfo.InvariantCulture)));
        }
    }

    private static void NotNegative(string path, TimeSpan value, List<ConfigError> errors)
    {
        if (value < TimeSpan.Zero)
        {
            errors.Add(new ConfigError(path, "must not be negative", value.ToString("c", CultureInfo.InvariantCulture)));
        }
    }

    private static bool IsEnvironmentVariableName(string name)
    {
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return !char.IsAsciiDigit(name[0]);
    }

    // A value in ApiKeyEnv that is not a variable name may be a pasted secret: never echo it whole.
    private static string Redact(string value) => value.Length <= 4 ? "****" : string.Concat(value.AsSpan(0, 3), "…");

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static bool IsApiVersion(string? version) =>
        version is { Length: >= 10 and <= 32 } && DateOnly.TryParseExact(version[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
        && (version.Length == 10 || (version[10] == '-' && version[11..].All(char.IsAsciiLetterLower)));

    private static bool IsHeaderNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
