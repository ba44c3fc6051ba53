namespace Tollgate.Configuration;

/// <summary>
/// The response cache's store (<c>Tollgate:Cache</c>): how long an answer is kept and how much memory answers may
/// take. Whether a request uses the cache is decided per plan (<see cref="PlanOptions.CacheResponses"/>) and per
/// model (<see cref="ModelOptions.CacheResponses"/>); both must opt in.
/// </summary>
public sealed class CacheOptions
{
    /// <summary>How long a stored answer is served (from the moment it was stored).</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most answers kept; the least recently used ones are evicted past it.</summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>Most bytes of answers kept; the least recently used ones are evicted past it.</summary>
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Largest answer stored; a larger one is served but not kept.</summary>
    public int MaxEntryBytes { get; set; } = 1024 * 1024;
}

/// <summary>Values of <see cref="PlanOptions.CacheNamespace"/>: who shares stored answers.</summary>
public static class CacheNamespaces
{
    /// <summary>Every caller of one tenant (the default): one tenant's answers never reach another.</summary>
    public const string Tenant = "tenant";

    /// <summary>One user of one tenant (all that user's keys).</summary>
    public const string User = "user";

    /// <summary>Every caller on a plan with this namespace, whatever their tenant: for public, non-personal content only.</summary>
    public const string Shared = "shared";
}
