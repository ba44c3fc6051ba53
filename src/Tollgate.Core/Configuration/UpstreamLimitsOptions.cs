namespace Tollgate.Configuration;

/// <summary>
/// The provider's own quota for one upstream, shared by every tenant: each call to the upstream (retries and
/// fallbacks included) reserves it in the same atomic step as the caller's own limits, so the gateway stays under
/// the provider's quota instead of learning of it from 429s. Unset limits do not apply.
/// </summary>
public sealed class UpstreamLimitsOptions
{
    /// <summary>Calls to the upstream per sliding minute.</summary>
    public long? RequestsPerMinute { get; set; }

    /// <summary>Input plus output tokens per sliding minute (reserved at each call's worst case, settled to its bill).</summary>
    public long? TokensPerMinute { get; set; }

    /// <summary>
    /// The most any one tenant may use of each limit above, in percent (1 to 100); null: no share, a tenant may use
    /// all of it. With 25, four busy tenants together can still use the whole quota, and no one of them can take it all.
    /// </summary>
    public int? TenantSharePercent { get; set; }
}
