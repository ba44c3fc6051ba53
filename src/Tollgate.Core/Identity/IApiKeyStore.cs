using System.Diagnostics.CodeAnalysis;

namespace Tollgate.Identity;

/// <summary>
/// Where keys live. Every implementation passes the same contract tests. Lookups read the store every time, so a
/// revocation, rotation or plan change made by another process applies to the very next request.
/// </summary>
public interface IApiKeyStore
{
    /// <summary>Stores a new key with the hash of its secret.</summary>
    /// <exception cref="InvalidOperationException">The id or the secret hash is already stored.</exception>
    Task CreateAsync(ApiKeyRecord record, string secretHash, CancellationToken cancellationToken);

    /// <summary>Stores many new keys in one transaction.</summary>
    /// <exception cref="InvalidOperationException">An id or a secret hash is already stored, or repeated in the batch; nothing is stored.</exception>
    Task CreateManyAsync(IReadOnlyList<(ApiKeyRecord Record, string SecretHash)> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Finds the key whose secret hashes to <paramref name="secretHash"/> and that secret's own end of validity
    /// (set when a rotation left it a grace period), or null.
    /// </summary>
    ValueTask<ApiKeyMatch?> FindBySecretHashAsync(string secretHash, CancellationToken cancellationToken);

    /// <summary>Gets a key by id, or null.</summary>
    Task<ApiKeyRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Lists keys, optionally of one tenant.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListAsync(string? tenant, CancellationToken cancellationToken);

    /// <summary>Marks a key revoked at <paramref name="at"/>; false when it does not exist.</summary>
    Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Adds a new secret to a key. Existing secrets stop working at <paramref name="oldSecretsValidUntil"/> (now, for no grace).
    /// False when the key does not exist or is revoked.
    /// </summary>
    /// <exception cref="InvalidOperationException">The new secret hash is already stored; nothing changes.</exception>
    Task<bool> RotateAsync(string id, string newSecretHash, DateTimeOffset at, DateTimeOffset oldSecretsValidUntil, CancellationToken cancellationToken);

    /// <summary>Replaces a key's overrides of plan settings (empty removes them); false when it does not exist.</summary>
    [SuppressMessage("Naming", "CA1716", Justification = "The name matches ApiKeyRecord.Overrides; Tollgate has no Visual Basic implementers.")]
    Task<bool> UpdateOverridesAsync(string id, IReadOnlyDictionary<string, string> overrides, CancellationToken cancellationToken);

    /// <summary>Moves a key to another plan; false when it does not exist.</summary>
    Task<bool> UpdatePlanAsync(string id, string plan, CancellationToken cancellationToken);
}

/// <summary>A key found by its secret, with that secret's own expiry (from a rotation grace period).</summary>
public sealed record ApiKeyMatch(ApiKeyRecord Key, DateTimeOffset? SecretValidUntil);
