using Tollgate.Validation;

namespace Tollgate.Configuration;

/// <summary>The whole gateway configuration: the root of the <c>Tollgate</c> configuration section.</summary>
public sealed class TollgateOptions
{
    /// <summary>The configuration section this binds to.</summary>
    public const string SectionName = "Tollgate";

    /// <summary>Upstream providers by name.</summary>
    public Dictionary<string, UpstreamOptions> Upstreams { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Models by public name (what callers put in <c>model</c>).</summary>
    public Dictionary<string, ModelOptions> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Plans by name; every key names one.</summary>
    public Dictionary<string, PlanOptions> Plans { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Tenants with their own aggregate limits, by tenant name.</summary>
    public Dictionary<string, TenantOptions> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Limits of every tenant not listed in <see cref="Tenants"/>.</summary>
    public TenantOptions TenantDefaults { get; set; } = new();

    /// <summary>Limits on the whole gateway, and the time zone of calendar budgets.</summary>
    public GlobalOptions Global { get; set; } = new();

    /// <summary>Limits per client address.</summary>
    public SourceAddressOptions SourceAddresses { get; set; } = new();

    /// <summary>Request handling at the edge.</summary>
    public GatewayOptions Gateway { get; set; } = new();

    /// <summary>How repetitive or amplifying input is recognized, for plans with <see cref="PlanOptions.RejectRepetitiveInput"/>.</summary>
    public RepetitionOptions Repetition { get; set; } = new();

    /// <summary>The response cache's store: lifetime and memory bounds of stored answers.</summary>
    public CacheOptions Cache { get; set; } = new();

    /// <summary>The audit ledger.</summary>
    public LedgerOptions Ledger { get; set; } = new();

    /// <summary>The Prometheus endpoint.</summary>
    public MetricsOptions Metrics { get; set; } = new();
}
