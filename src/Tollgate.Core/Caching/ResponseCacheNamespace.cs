using Tollgate.Configuration;

namespace Tollgate.Caching;

/// <summary>
/// Who shares a stored answer: one tenant (the default), one user of one tenant, or everyone on a plan with the
/// <c>shared</c> namespace. It is hashed into every key, so answers in different namespaces never meet.
/// </summary>
/// <param name="Kind">A <see cref="CacheNamespaces"/> value.</param>
/// <param name="Tenant">The tenant, or empty in the shared namespace.</param>
/// <param name="User">The user in the per-user namespace, else empty.</param>
public readonly record struct ResponseCacheNamespace(string Kind, string Tenant, string User)
{
    /// <summary>The namespace a caller of <paramref name="tenant"/>/<paramref name="user"/> uses under <paramref name="setting"/>.</summary>
    public static ResponseCacheNamespace For(string setting, string tenant, string user) => setting switch
    {
        CacheNamespaces.User => new(CacheNamespaces.User, tenant, user),
        CacheNamespaces.Shared => new(CacheNamespaces.Shared, "", ""),
        _ => new(CacheNamespaces.Tenant, tenant, ""),
    };
}
