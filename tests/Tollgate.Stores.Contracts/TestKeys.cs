using Tollgate.Identity;

namespace Tollgate.Stores.Contracts;

/// <summary>Key records for store tests. Instants are whole milliseconds (what every backend keeps).</summary>
public static class TestKeys
{
    /// <summary>A fixed instant with a millisecond part.</summary>
    public static readonly DateTimeOffset T0 = new(2025, 3, 14, 15, 9, 26, 535, TimeSpan.Zero);

    /// <summary>A key with every optional field unset.</summary>
    public static ApiKeyRecord Key(string id, string tenant = "acme", string user = "alice", string plan = "basic", DateTimeOffset? createdAt = null) => new()
    {
        Id = id,
        Tenant = tenant,
        User = user,
        Plan = plan,
        CreatedAt = createdAt ?? T0,
    };

    /// <summary>A hash-shaped string, distinct per <paramref name="n"/>.</summary>
    public static string Hash(int n) => n.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);
}
