namespace Tollgate.Identity;

/// <summary>A key's identity and status. Never holds key material.</summary>
public sealed record ApiKeyRecord
{
    /// <summary>The public id, <c>key_…</c>.</summary>
    public required string Id { get; init; }

    /// <summary>An optional human name.</summary>
    public string? Name { get; init; }

    /// <summary>The tenant the key belongs to.</summary>
    public required string Tenant { get; init; }

    /// <summary>The user the key belongs to.</summary>
    public required string User { get; init; }

    /// <summary>The plan whose rules apply.</summary>
    public required string Plan { get; init; }

    /// <summary>When the key was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>After this instant the key no longer works.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>When the key was revoked, if it was.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>When the secret was last rotated, if it was.</summary>
    public DateTimeOffset? RotatedAt { get; init; }

    /// <summary>
    /// Per-key overrides of plan settings (names of <c>PlanOptions</c> limit properties, e.g.
    /// <c>RequestsPerMinute</c> → <c>10</c>, <c>BudgetPerDay</c> → <c>2.5</c>); null or empty for none.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Overrides { get; init; }
}
