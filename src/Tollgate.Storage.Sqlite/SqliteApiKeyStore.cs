using Microsoft.Data.Sqlite;
using Tollgate.Identity;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// An <see cref="IApiKeyStore"/> in a SQLite file (tables <c>api_keys</c> and <c>api_key_secrets</c>). Keys found by
/// secret are cached, but every lookup first checks the key tables' generation (<see cref="KeyGenerationCache"/>), so
/// a revocation, rotation, plan or overrides change made by any process applies to the very next request.
/// Timestamps are kept to the millisecond.
/// </summary>
/// <param name="database">The database; <see cref="SqliteDatabase.InitializeAsync"/> must have run.</param>
public sealed class SqliteApiKeyStore(SqliteDatabase database) : IApiKeyStore, IDisposable
{
    private readonly KeyGenerationCache _cache = new(database);

    private const string KeyColumns = "k.id, k.name, k.tenant, k.user, k.plan, k.created_at, k.expires_at, k.revoked_at, k.rotated_at, k.overrides";

    private const string FindSql =
        $"SELECT {KeyColumns}, s.valid_until FROM api_key_secrets AS s JOIN api_keys AS k ON k.id = s.key_id WHERE s.hash = $hash;";

    private const string GetSql = $"SELECT {KeyColumns} FROM api_keys AS k WHERE k.id = $id;";
    private const string ListAllSql = $"SELECT {KeyColumns} FROM api_keys AS k ORDER BY k.created_at, k.id;";
    private const string ListTenantSql = $"SELECT {KeyColumns} FROM api_keys AS k WHERE k.tenant = $tenant ORDER BY k.created_at, k.id;";

    private const string InsertKeySql =
        "INSERT INTO api_keys (id, name, tenant, user, plan, created_at, expires_at, revoked_at, rotated_at, overrides) "
        + "VALUES ($id, $name, $tenant, $user, $plan, $created_at, $expires_at, $revoked_at, $rotated_at, $overrides);";

    private const string InsertSecretSql = "INSERT INTO api_key_secrets (hash, key_id, valid_until) VALUES ($hash, $key_id, NULL);";

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The id or the secret hash is already stored.</exception>
    public Task CreateAsync(ApiKeyRecord record, string secretHash, CancellationToken cancellationToken) =>
        CreateManyAsync([(record, secretHash)], cancellationToken);

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">An id or a secret hash is already stored (nothing is then stored).</exception>
    public async Task CreateManyAsync(IReadOnlyList<(ApiKeyRecord Record, string SecretHash)> keys, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using var insertKey = connection.CreateCommand();
        insertKey.Transaction = transaction;
        insertKey.CommandText = InsertKeySql;
        await using var insertSecret = connection.CreateCommand();
        insertSecret.Transaction = transaction;
        insertSecret.CommandText = InsertSecretSql;
        foreach (var (record, hash) in keys)
        {
            insertKey.Parameters.Clear();
            insertKey.Parameters.AddWithValue("$id", record.Id);
            insertKey.Parameters.AddWithValue("$name", DbValue.Of(record.Name));
            insertKey.Parameters.AddWithValue("$tenant", record.Tenant);
            insertKey.Parameters.AddWithValue("$user", record.User);
            insertKey.Parameters.AddWithValue("$plan", record.Plan);
            insertKey.Parameters.AddWithValue("$created_at", UnixTime.ToMilliseconds(record.CreatedAt));
            insertKey.Parameters.AddWithValue("$expires_at", UnixTime.ToDbValue(record.ExpiresAt));
            insertKey.Parameters.AddWithValue("$revoked_at", UnixTime.ToDbValue(record.RevokedAt));
            insertKey.Parameters.AddWithValue("$rotated_at", UnixTime.ToDbValue(record.RotatedAt));
            insertKey.Parameters.AddWithValue("$overrides", OverridesJson.ToDbValue(record.Overrides));
            insertSecret.Parameters.Clear();
            insertSecret.Parameters.AddWithValue("$hash", hash);
            insertSecret.Parameters.AddWithValue("$key_id", record.Id);
            try
            {
                await insertKey.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await insertSecret.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SqliteException e) when (DbValue.IsUniqueViolation(e))
            {
                throw new InvalidOperationException($"Key {record.Id} already exists.", e);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<ApiKeyMatch?> FindBySecretHashAsync(string secretHash, CancellationToken cancellationToken)
    {
        // The generation is read before the lookup: a change that lands in between makes the next lookup read again.
        long generation = _cache.ReadGeneration();
        if (_cache.TryGet(secretHash, generation, out var cached))
        {
            return cached;
        }

        var match = await ReadBySecretHashAsync(secretHash, cancellationToken).ConfigureAwait(false);
        if (match is not null)
        {
            _cache.Add(secretHash, generation, match);
        }

        return match;
    }

    /// <summary>Keys held by the lookup cache now.</summary>
    internal int CachedKeys => _cache.Count;

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();

    private async Task<ApiKeyMatch?> ReadBySecretHashAsync(string secretHash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = FindSql;
        command.Parameters.AddWithValue("$hash", secretHash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new ApiKeyMatch(ReadKey(reader), DbValue.GetNullableTime(reader, 10))
            : null;
    }

    /// <inheritdoc />
    public async Task<ApiKeyRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = GetSql;
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadKey(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(string? tenant, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = tenant is null ? ListAllSql : ListTenantSql;
        if (tenant is not null)
        {
            command.Parameters.AddWithValue("$tenant", tenant);
        }

        var keys = new List<ApiKeyRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            keys.Add(ReadKey(reader));
        }

        // SQLite orders text by UTF-8 bytes; re-sort (stable) so ids compare as .NET ordinal strings do.
        keys.Sort(static (a, b) => a.CreatedAt != b.CreatedAt ? a.CreatedAt.CompareTo(b.CreatedAt) : string.CompareOrdinal(a.Id, b.Id));
        return keys;
    }

    /// <inheritdoc />
    public async Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // Revoking twice keeps the first instant.
        command.CommandText = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $at) WHERE id = $id;";
        command.Parameters.AddWithValue("$at", UnixTime.ToMilliseconds(at));
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The new secret hash is already stored (nothing is then changed).</exception>
    public async Task<bool> RotateAsync(string id, string newSecretHash, DateTimeOffset at, DateTimeOffset oldSecretsValidUntil, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.Parameters.AddWithValue("$id", id);
        command.CommandText = "SELECT 1 FROM api_keys WHERE id = $id AND revoked_at IS NULL;";
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        // An old secret keeps the earlier of its own end and the new one.
        command.CommandText = "UPDATE api_key_secrets SET valid_until = MIN(COALESCE(valid_until, $until), $until) WHERE key_id = $id;";
        command.Parameters.AddWithValue("$until", UnixTime.ToMilliseconds(oldSecretsValidUntil));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        command.CommandText = "INSERT INTO api_key_secrets (hash, key_id, valid_until) VALUES ($hash, $id, NULL);";
        command.Parameters.AddWithValue("$hash", newSecretHash);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e) when (DbValue.IsUniqueViolation(e))
        {
            throw new InvalidOperationException($"The new secret of key {id} is already in use.", e);
        }

        command.CommandText = "UPDATE api_keys SET rotated_at = $at WHERE id = $id;";
        command.Parameters.AddWithValue("$at", UnixTime.ToMilliseconds(at));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> UpdateOverridesAsync(string id, IReadOnlyDictionary<string, string> overrides, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE api_keys SET overrides = $overrides WHERE id = $id;";
        command.Parameters.AddWithValue("$overrides", OverridesJson.ToDbValue(overrides));
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public async Task<bool> UpdatePlanAsync(string id, string plan, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE api_keys SET plan = $plan WHERE id = $id;";
        command.Parameters.AddWithValue("$plan", plan);
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    private static ApiKeyRecord ReadKey(SqliteDataReader reader)
    {
        string id = reader.GetString(0);
        return new()
        {
            Id = id,
            Name = DbValue.GetNullableString(reader, 1),
            Tenant = reader.GetString(2),
            User = reader.GetString(3),
            Plan = reader.GetString(4),
            CreatedAt = DbValue.GetTime(reader, 5),
            ExpiresAt = DbValue.GetNullableTime(reader, 6),
            RevokedAt = DbValue.GetNullableTime(reader, 7),
            RotatedAt = DbValue.GetNullableTime(reader, 8),
            Overrides = OverridesJson.Read(DbValue.GetNullableString(reader, 9), id),
        };
    }
}
