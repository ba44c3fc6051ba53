using System.Collections.Frozen;
using Tollgate.Pricing;
using Tollgate.Validation;

namespace Tollgate.Configuration;

/// <summary>
/// An immutable, validated configuration compiled for the request path: names and aliases resolve in one lookup,
/// prices are integers. A reload swaps the whole object.
/// </summary>
public sealed class GatewayConfig
{
    private readonly FrozenDictionary<string, ModelDefinition> _modelsByName;
    private readonly FrozenDictionary<string, FrozenSet<string>> _planModels;
    private readonly FrozenSet<string> _allModelPlans;

    private GatewayConfig(TollgateOptions options, FrozenDictionary<string, ModelDefinition> modelsByName,
        FrozenDictionary<string, FrozenSet<string>> planModels, FrozenSet<string> allModelPlans, IReadOnlyList<ModelDefinition> models)
    {
        Options = options;
        Repetition = new RepetitionDetector(options.Repetition);
        _modelsByName = modelsByName;
        _planModels = planModels;
        _allModelPlans = allModelPlans;
        Models = models;
    }

    /// <summary>The options this was compiled from.</summary>
    public TollgateOptions Options { get; }

    /// <summary>The detector built from <see cref="TollgateOptions.Repetition"/>: a reload that changes them applies to the next request.</summary>
    public RepetitionDetector Repetition { get; }

    /// <summary>The limits of this configuration resolved to scopes, built as callers come (<see cref="Limits.LimitPlanner"/>).</summary>
    internal Limits.LimitRules LimitRules => _limitRules ??= new Limits.LimitRules(this);

    // Two requests racing on first use may each build one; either is right, and one is kept.
    private Limits.LimitRules? _limitRules;

    /// <summary>The time zone of calendar budgets for <paramref name="tenant"/>.</summary>
    public TimeZoneInfo TimeZoneFor(string? tenant) =>
        tenant is not null && _tenantZones.TryGetValue(tenant, out var zone) ? zone : _defaultTenantZone;

    /// <summary>The gateway-wide time zone of calendar budgets.</summary>
    public TimeZoneInfo GlobalTimeZone { get; private init; } = TimeZoneInfo.Utc;

    /// <summary>The limits of <paramref name="tenant"/> (its own, else the defaults).</summary>
    public TenantOptions TenantLimits(string tenant) => Options.Tenants.TryGetValue(tenant, out var t) ? t : Options.TenantDefaults;

    private TimeZoneInfo _defaultTenantZone = TimeZoneInfo.Utc;

    private FrozenDictionary<string, TimeZoneInfo> _tenantZones = FrozenDictionary<string, TimeZoneInfo>.Empty;

    /// <summary>Every model, in configuration order.</summary>
    public IReadOnlyList<ModelDefinition> Models { get; }

    /// <summary>
    /// The fallbacks of <paramref name="model"/>, in order (see <see cref="ModelOptions.Fallbacks"/>): other models,
    /// or the same model on another upstream (its <see cref="ModelDefinition.UpstreamName"/> replaced). Empty for most.
    /// </summary>
    public IReadOnlyList<ModelDefinition> FallbacksOf(ModelDefinition model) =>
        _fallbacks.TryGetValue(model.Name, out var list) ? list : [];

    private FrozenDictionary<string, ModelDefinition[]> _fallbacks = FrozenDictionary<string, ModelDefinition[]>.Empty;

    /// <summary>Resolves a public name or alias.</summary>
    public bool TryGetModel(string name, out ModelDefinition model) => _modelsByName.TryGetValue(name, out model!);

    /// <summary>Whether <paramref name="plan"/> exists.</summary>
    public bool HasPlan(string plan) => _planModels.ContainsKey(plan);

    /// <summary>Whether <paramref name="plan"/> may use <paramref name="model"/> (a resolved model, aliases already applied).</summary>
    public bool IsAllowed(string plan, ModelDefinition model) =>
        _allModelPlans.Contains(plan) || (_planModels.TryGetValue(plan, out var set) && set.Contains(model.Name));

    /// <summary>Validates <paramref name="options"/> and compiles it, or returns every error found.</summary>
    public static bool TryCreate(TollgateOptions options, out GatewayConfig? config, out IReadOnlyList<ConfigError> errors)
    {
        var list = new List<ConfigError>();
        TollgateOptionsValidator.Validate(options, list);
        if (list.Count > 0)
        {
            config = null;
            errors = list;
            return false;
        }

        var byName = new Dictionary<string, ModelDefinition>(StringComparer.Ordinal);
        var models = new List<ModelDefinition>();
        foreach (var (name, m) in options.Models)
        {
            Money.TryGetMicrosPerMillion(m.Prices.Input, out long input);
            Money.TryGetMicrosPerMillion(m.Prices.CachedInput ?? m.Prices.Input, out long cached);
            Money.TryGetMicrosPerMillion(m.Prices.Output, out long output);
            Money.TryGetMicrosPerMillion(m.Prices.CacheWrite5m ?? m.Prices.Input, out long write5m);
            Money.TryGetMicrosPerMillion(m.Prices.CacheWrite1h ?? m.Prices.Input, out long write1h);
            var price = new ModelPrice(input, cached, output) { CacheWrite5mMicrosPerMillion = write5m, CacheWrite1hMicrosPerMillion = write1h };
            var definition = new ModelDefinition(name, m.Upstream, m.UpstreamModel ?? name, m.Type,
                price, m.ContextWindow, m.MaxOutputTokens, m.Encoding, m.ApproximationMarginPercent, m.OutputCapParameter,
                m.StreamCutMarginPercent ?? (m.Encoding == Tokenization.TokenEncoding.Approximate ? 100 : 10))
            {
                DocumentTokens = m.DocumentTokens,
                UncoveredPriceBetas = m.PriceChangingBetas.Except(m.Prices.CoveredBetas, StringComparer.Ordinal).ToFrozenSet(StringComparer.Ordinal),
                CacheResponses = m.CacheResponses,
                ToolCallPrices = m.Prices.ToolCalls.Count == 0 ? ToolCallPrices.None : ToolCallPrices.Create(m.Prices.ToolCalls.ToDictionary(
                    p => p.Key, p => Money.TryGetMicrosPerMillion(p.Value, out long micros) ? micros : 0, StringComparer.Ordinal)),
            };
            models.Add(definition);
            byName[name] = definition;
            foreach (string alias in m.Aliases)
            {
                byName[alias] = definition;
            }
        }

        var fallbacks = new Dictionary<string, ModelDefinition[]>(StringComparer.Ordinal);
        foreach (var (name, m) in options.Models)
        {
            if (m.Fallbacks.Count > 0)
            {
                var primary = byName[name];
                fallbacks[name] = [.. m.Fallbacks.Select(f => f.StartsWith(ResilienceValidator.UpstreamPrefix, StringComparison.Ordinal)
                    ? primary with { UpstreamName = f[ResilienceValidator.UpstreamPrefix.Length..] }
                    : byName[f])];
            }
        }

        var planModels = new Dictionary<string, FrozenSet<string>>(StringComparer.Ordinal);
        var allPlans = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (planName, plan) in options.Plans)
        {
            if (plan.Models.Contains("*"))
            {
                allPlans.Add(planName);
            }

            planModels[planName] = plan.Models.Where(byName.ContainsKey).Select(n => byName[n].Name).ToFrozenSet(StringComparer.Ordinal);
        }

        LimitsValidator.TryFindTimeZone(options.Global.TimeZone, out var globalZone);
        var defaultZone = options.TenantDefaults.TimeZone is { } dz && LimitsValidator.TryFindTimeZone(dz, out var z) ? z : globalZone;
        var tenantZones = new Dictionary<string, TimeZoneInfo>(StringComparer.Ordinal);
        foreach (var (name, tenant) in options.Tenants)
        {
            tenantZones[name] = tenant.TimeZone is { } tz && LimitsValidator.TryFindTimeZone(tz, out var zone) ? zone : defaultZone;
        }

        config = new GatewayConfig(options, byName.ToFrozenDictionary(StringComparer.Ordinal),
            planModels.ToFrozenDictionary(StringComparer.Ordinal), allPlans.ToFrozenSet(StringComparer.Ordinal), models)
        {
            GlobalTimeZone = globalZone,
            _defaultTenantZone = defaultZone,
            _tenantZones = tenantZones.ToFrozenDictionary(StringComparer.Ordinal),
            _fallbacks = fallbacks.ToFrozenDictionary(StringComparer.Ordinal),
        };
        errors = [];
        return true;
    }
}
