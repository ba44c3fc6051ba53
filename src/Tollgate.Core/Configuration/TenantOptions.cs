namespace Tollgate.Configuration;

/// <summary>A tenant's aggregate limits and budgets, shared by all its users (noisy-neighbour isolation).</summary>
public sealed class TenantOptions : LimitsOptions
{
    /// <summary>IANA time zone of this tenant's calendar budgets; defaults to <see cref="GlobalOptions.TimeZone"/>.</summary>
    public string? TimeZone { get; set; }

    /// <summary>
    /// This tenant's share of the gateway's concurrency slots while requests wait for one (1 – 1000): a tenant of
    /// weight 3 is served three slots for every one of a tenant of weight 1.
    /// </summary>
    public int Weight { get; set; } = 1;
}

/// <summary>Limits on the whole gateway (e.g. total spend per day: the automatic shutoff). Callers never see these figures.</summary>
public sealed class GlobalOptions : LimitsOptions
{
    /// <summary>IANA time zone of calendar budgets (days and months), e.g. <c>UTC</c>, <c>Europe/Berlin</c>.</summary>
    public string TimeZone { get; set; } = "UTC";
}

/// <summary>Limits per client address. The address is the socket's, or a forwarded one only from a trusted proxy; IPv6 is grouped by /64.</summary>
public sealed class SourceAddressOptions : LimitsOptions
{
    /// <summary>Proxies whose <c>X-Forwarded-For</c> is believed (IP addresses or CIDR ranges).</summary>
    public List<string> TrustedProxies { get; set; } = [];
}
