using System.Collections.ObjectModel;

namespace Tollgate.Identity;

/// <summary>An <see cref="IApiKeyStore"/> in memory, for tests and single-process embedding.</summary>
public sealed class InMemoryApiKeyStore : IApiKeyStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ApiKeyRecord> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string KeyId, DateTimeOffset? ValidUntil)> _secrets = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task CreateAsync(ApiKeyRecord record, string secretHash, CancellationToken cancellationToken) =>
        CreateManyAsync([(record, secretHash)], cancellationToken);

    /// <inheritdoc />
    public Task CreateManyAsync(IReadOnlyList<(ApiKeyRecord Record, string SecretHash)> keys, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            // Check the whole batch first, duplicates within it included, so that a failure stores nothing.
            var ids = new HashSet<string>(StringComparer.Ordinal);
            var hashes = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (record, hash) in keys)
            {
                if (_keys.ContainsKey(record.Id) || _secrets.ContainsKey(hash) || !ids.Add(record.Id) || !hashes.Add(hash))
                {
                    throw new InvalidOperationException($"Key {record.Id} already exists.");
                }
            }

            foreach (var (record, hash) in keys)
            {
                _keys.Add(record.Id, record with { Overrides = Copy(record.Overrides) });
                _secrets.Add(hash, (record.Id, null));
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<ApiKeyMatch?> FindBySecretHashAsync(string secretHash, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_secrets.TryGetValue(secretHash, out var secret) && _keys.TryGetValue(secret.KeyId, out var key)
                ? new ApiKeyMatch(key, secret.ValidUntil)
                : null);
        }
    }

    /// <inheritdoc />
    public Task<ApiKeyRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_keys.GetValueOrDefault(id));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ApiKeyRecord>> ListAsync(string? tenant, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<ApiKeyRecord> list = [.. _keys.Values.Where(k => tenant is null || k.Tenant == tenant).OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal)];
            return Task.FromResult(list);
        }
    }

    /// <inheritdoc />
    public Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) =>
        Task.FromResult(Update(id, k => k.RevokedAt is null ? k with { RevokedAt = at } : k));

    /// <inheritdoc />
    public Task<bool> RotateAsync(string id, string newSecretHash, DateTimeOffset at, DateTimeOffset oldSecretsValidUntil, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_keys.TryGetValue(id, out var key) || key.RevokedAt is not null)
            {
                return Task.FromResult(false);
            }

            if (_secrets.ContainsKey(newSecretHash))
            {
                throw new InvalidOperationException($"The new secret of key {id} is already in use.");
            }

            foreach (var (hash, secret) in _secrets.Where(s => s.Value.KeyId == id).ToList())
            {
                var until = secret.ValidUntil is { } v && v < oldSecretsValidUntil ? v : oldSecretsValidUntil;
                _secrets[hash] = (id, until);
            }

            _secrets.Add(newSecretHash, (id, null));
            _keys[id] = key with { RotatedAt = at };
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<bool> UpdateOverridesAsync(string id, IReadOnlyDictionary<string, string> overrides, CancellationToken cancellationToken)
    {
        var copy = Copy(overrides);
        return Task.FromResult(Update(id, k => k with { Overrides = copy }));
    }

    /// <inheritdoc />
    public Task<bool> UpdatePlanAsync(string id, string plan, CancellationToken cancellationToken) =>
        Task.FromResult(Update(id, k => k with { Plan = plan }));

    // A private, read-only copy, so the caller cannot change what is stored; none is stored as null, as other
    // backends read it back.
    private static ReadOnlyDictionary<string, string>? Copy(IReadOnlyDictionary<string, string>? overrides) =>
        overrides is null || overrides.Count == 0 ? null : new Dictionary<string, string>(overrides, StringComparer.Ordinal).AsReadOnly();

    private bool Update(string id, Func<ApiKeyRecord, ApiKeyRecord> change)
    {
        lock (_lock)
        {
            if (!_keys.TryGetValue(id, out var key))
            {
                return false;
            }

            _keys[id] = change(key);
            return true;
        }
    }
}
