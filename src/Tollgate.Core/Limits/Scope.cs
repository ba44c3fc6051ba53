namespace Tollgate.Limits;

/// <summary>Kinds of scope a limit applies to.</summary>
public enum ScopeKind
{
    /// <summary>One API key.</summary>
    Key,

    /// <summary>One user of a tenant (all their keys).</summary>
    User,

    /// <summary>A whole tenant.</summary>
    Tenant,

    /// <summary>One agent task of one key (<c>x-tollgate-task</c>).</summary>
    Task,

    /// <summary>One client address (IPv6 grouped by /64).</summary>
    SourceAddress,

    /// <summary>The whole gateway. Its figures are never shown to callers.</summary>
    Global,

    /// <summary>One upstream's own quota (or one tenant's share of it). Its figures are never shown to callers.</summary>
    Upstream,
}

/// <summary>A scope: its kind, its counter id, and the name a caller sees in messages.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="Id">The counter id, unique across kinds (e.g. <c>t:acme</c>).</param>
/// <param name="Display">The name in messages, e.g. <c>tenant acme</c>.</param>
/// <param name="TimeZone">The time zone of its calendar windows.</param>
public sealed record Scope(ScopeKind Kind, string Id, string Display, TimeZoneInfo TimeZone)
{
    /// <summary>Whether a caller may see this scope's figures.</summary>
    public bool IsVisibleToCaller => Kind is not (ScopeKind.Global or ScopeKind.Upstream);
}
