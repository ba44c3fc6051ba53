namespace Tollgate.Identity;

/// <summary>Creates and rotates keys: makes the secret, stores only its hash, and hands the secret back once.</summary>
public sealed class ApiKeyIssuer(IApiKeyStore store, KeyHasher hasher, TimeProvider timeProvider)
{
    /// <summary>What to create.</summary>
    /// <param name="Tenant">The tenant.</param>
    /// <param name="User">The user.</param>
    /// <param name="Plan">The plan.</param>
    /// <param name="ExpiresAt">When the key stops working, if ever.</param>
    /// <param name="Name">A human name.</param>
    /// <param name="Overrides">Per-key overrides of plan settings (see <see cref="ApiKeyRecord.Overrides"/>).</param>
    public sealed record Request(string Tenant, string User, string Plan, DateTimeOffset? ExpiresAt = null, string? Name = null,
        IReadOnlyDictionary<string, string>? Overrides = null);

    /// <summary>Creates one key; the returned secret is never stored and cannot be shown again.</summary>
    public async Task<(ApiKeyRecord Key, string Secret)> CreateAsync(Request request, CancellationToken cancellationToken)
    {
        var (record, secret, hash) = Build(request);
        await store.CreateAsync(record, hash, cancellationToken).ConfigureAwait(false);
        return (record, secret);
    }

    /// <summary>Creates many keys in one transaction.</summary>
    public async Task<IReadOnlyList<(ApiKeyRecord Key, string Secret)>> CreateManyAsync(IReadOnlyList<Request> requests, CancellationToken cancellationToken)
    {
        var built = requests.Select(Build).ToList();
        await store.CreateManyAsync([.. built.Select(b => (b.Record, b.Hash))], cancellationToken).ConfigureAwait(false);
        return [.. built.Select(b => (b.Record, b.Secret))];
    }

    /// <summary>
    /// Gives a key a new secret; the old one keeps working for <paramref name="grace"/> (zero: stops at once).
    /// Returns null when the key does not exist or is revoked.
    /// </summary>
    public async Task<string?> RotateAsync(string id, TimeSpan grace, CancellationToken cancellationToken)
    {
        string secret = ApiKeyFormat.NewSecret();
        var now = timeProvider.GetUtcNow();
        return await store.RotateAsync(id, hasher.Hash(secret), now, now + grace, cancellationToken).ConfigureAwait(false) ? secret : null;
    }

    private (ApiKeyRecord Record, string Secret, string Hash) Build(Request request)
    {
        string secret = ApiKeyFormat.NewSecret();
        var record = new ApiKeyRecord
        {
            Id = ApiKeyFormat.NewId(),
            Name = request.Name,
            Tenant = request.Tenant,
            User = request.User,
            Plan = request.Plan,
            CreatedAt = timeProvider.GetUtcNow(),
            ExpiresAt = request.ExpiresAt,
            Overrides = request.Overrides is { Count: > 0 } overrides ? overrides : null,
        };
        return (record, secret, hasher.Hash(secret));
    }
}
