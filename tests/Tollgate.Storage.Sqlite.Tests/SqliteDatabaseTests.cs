using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Tollgate.Audit;
using Tollgate.Identity;
using Tollgate.Stores.Contracts;

namespace Tollgate.Storage.Sqlite.Tests;

/// <summary>What only the SQLite backend has: a shared file, WAL, locks, schema versions.</summary>
public sealed class SqliteDatabaseTests : IDisposable
{
    private static CancellationToken None => CancellationToken.None;
    private readonly TempDatabaseFile _file = new();

    public void Dispose() => _file.Dispose();

    [Fact]
    public async Task FindBySecretHashAsync_RevokedThroughAnotherDatabaseInstance_SeesRevocationOnNextLookup()
    {
        // Different busy timeouts give different connection strings, hence separate pools, like two processes.
        var serve = new SqliteApiKeyStore(await _file.OpenAsync());
        var cli = new SqliteApiKeyStore(await _file.OpenAsync(TimeSpan.FromSeconds(3)));
        await cli.CreateAsync(TestKeys.Key("key_1", plan: "free"), TestKeys.Hash(1), None);
        Assert.Null((await serve.FindBySecretHashAsync(TestKeys.Hash(1), None))!.Key.RevokedAt);

        await cli.RevokeAsync("key_1", TestKeys.T0, None);
        Assert.Equal(TestKeys.T0, (await serve.FindBySecretHashAsync(TestKeys.Hash(1), None))!.Key.RevokedAt);

        await cli.UpdatePlanAsync("key_1", "premium", None);
        Assert.Equal("premium", (await serve.FindBySecretHashAsync(TestKeys.Hash(1), None))!.Key.Plan);

        await cli.UpdateOverridesAsync("key_1", new Dictionary<string, string> { ["RequestsPerMinute"] = "10" }, None);
        Assert.Equal("10", (await serve.FindBySecretHashAsync(TestKeys.Hash(1), None))!.Key.Overrides!["RequestsPerMinute"]);
    }

    [Fact]
    public async Task FindBySecretHashAsync_Repeated_IsServedFromTheCacheUntilAKeyChanges()
    {
        var database = await _file.OpenAsync();
        var serve = new SqliteApiKeyStore(database);
        await serve.CreateAsync(TestKeys.Key("key_1"), TestKeys.Hash(1), None);
        Assert.NotNull(await serve.FindBySecretHashAsync(TestKeys.Hash(1), None));
        Assert.Equal(1, serve.CachedKeys);

        // A change made outside any store (a SQL shell) still bumps the generation through the triggers.
        await using (var shell = new SqliteConnection(database.ConnectionString + ";Pooling=False"))
        {
            await shell.OpenAsync();
            await using var update = shell.CreateCommand();
            update.CommandText = "UPDATE api_keys SET plan = 'shell' WHERE id = 'key_1';";
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        Assert.Equal("shell", (await serve.FindBySecretHashAsync(TestKeys.Hash(1), None))!.Key.Plan);
    }

    [Fact]
    public async Task FindBySecretHashAsync_UnknownSecret_IsNotCached()
    {
        var serve = new SqliteApiKeyStore(await _file.OpenAsync());
        for (int i = 0; i < 10; i++)
        {
            Assert.Null(await serve.FindBySecretHashAsync(TestKeys.Hash(100 + i), None));
        }

        Assert.Equal(0, serve.CachedKeys);
    }

    [Fact]
    public async Task FindBySecretHashAsync_RotatedByAnotherProcess_OldSecretGetsItsEndOnNextLookup()
    {
        var serve = new SqliteApiKeyStore(await _file.OpenAsync());
        var cli = new SqliteApiKeyStore(await _file.OpenAsync(TimeSpan.FromSeconds(3)));
        await cli.CreateAsync(TestKeys.Key("key_1"), TestKeys.Hash(1), None);
        Assert.Null((await serve.FindBySecretHashAsync(TestKeys.Hash(1), None))!.SecretValidUntil);

        var until = TestKeys.T0.AddHours(1);
        Assert.True(await cli.RotateAsync("key_1", TestKeys.Hash(2), TestKeys.T0, until, None));

        Assert.Equal(until, (await serve.FindBySecretHashAsync(TestKeys.Hash(1), None))!.SecretValidUntil);
        Assert.Equal("key_1", (await serve.FindBySecretHashAsync(TestKeys.Hash(2), None))!.Key.Id);
    }

    [Fact]
    public async Task InitializeAsync_Reopened_PreservesKeysAndLedger()
    {
        var first = await _file.OpenAsync();
        await new SqliteApiKeyStore(first).CreateAsync(TestKeys.Key("key_1"), TestKeys.Hash(1), None);
        await new SqliteLedgerStore(first).AppendAsync([TestAuditRecords.Full()], None);
        await new SqliteLedgerStore(first).AddLeaseAsync(TestAuditRecords.Lease("rsv_1"), None);
        first.ClearPool();

        var second = await _file.OpenAsync();

        Assert.Equal(TestKeys.Key("key_1"), await new SqliteApiKeyStore(second).GetAsync("key_1", None));
        Assert.Equal([TestAuditRecords.Full()], await new SqliteLedgerStore(second).ReadAsync(new UsageQuery(), 10, None));
        Assert.Equal([TestAuditRecords.Lease("rsv_1")], await new SqliteLedgerStore(second).ReadLeasesAsync(None));
    }

    [Fact]
    public async Task InitializeAsync_Twice_SetsSchemaVersionOnce()
    {
        var database = await _file.OpenAsync();

        await database.InitializeAsync(None);

        Assert.Equal((long)SqliteSchema.Version, await ScalarAsync(database, "PRAGMA user_version;"));
        Assert.Equal(1L, await ScalarAsync(database, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'audit';"));
    }

    [Fact]
    public async Task InitializeAsync_FileFromNewerVersion_Throws()
    {
        var database = await _file.OpenAsync();
        await ScalarAsync(database, $"PRAGMA user_version = {SqliteSchema.Version + 1};");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => database.InitializeAsync(None));

        Assert.Contains($"schema version {SqliteSchema.Version + 1}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitializeAsync_MissingDirectory_CreatesIt()
    {
        var database = new SqliteDatabase(Path.Combine(_file.Directory, "nested", "dir", "t.db"));

        await database.InitializeAsync(None);
        database.ClearPool();

        Assert.True(File.Exists(database.Path));
    }

    [Fact]
    public async Task OpenConnectionAsync_AppliesWalAndConnectionPragmas()
    {
        var database = await _file.OpenAsync();

        Assert.Equal("wal", await ScalarAsync(database, "PRAGMA journal_mode;"));
        Assert.Equal(1L, await ScalarAsync(database, "PRAGMA synchronous;"));
        Assert.Equal(5000L, await ScalarAsync(database, "PRAGMA busy_timeout;"));
        Assert.Equal(1L, await ScalarAsync(database, "PRAGMA foreign_keys;"));
        Assert.Contains("Pooling=True", database.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppendAsync_WhileAnotherConnectionHoldsTheWriteLock_ThrowsBusyAndWritesNothing()
    {
        var database = await _file.OpenAsync(TimeSpan.FromMilliseconds(50));
        var store = new SqliteLedgerStore(database);
        var other = await _file.OpenAsync();
        await using (var holder = await other.OpenConnectionAsync(None))
        {
            await using var exclusive = holder.CreateCommand();
            exclusive.CommandText = "BEGIN EXCLUSIVE;";
            await exclusive.ExecuteNonQueryAsync(None);

            var e = await Assert.ThrowsAsync<SqliteException>(() => store.AppendAsync([TestAuditRecords.Minimal()], None));
            Assert.Equal(5, e.SqliteErrorCode); // SQLITE_BUSY

            // Readers are not blocked by a writer in WAL mode.
            Assert.Empty(await store.ReadAsync(new UsageQuery(), 10, None));
            exclusive.CommandText = "ROLLBACK;";
            await exclusive.ExecuteNonQueryAsync(None);
        }

        await store.AppendAsync([TestAuditRecords.Minimal()], None);
        Assert.Single(await store.ReadAsync(new UsageQuery(), 10, None));
    }

    [Fact]
    public async Task AppendAsync_MarkingTheLeaseSettledFails_WritesNoRecordAndKeepsTheLease()
    {
        var database = await _file.OpenAsync();
        var store = new SqliteLedgerStore(database);
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_1"), None);
        await using (var connection = await database.OpenConnectionAsync(None))
        {
            await using var trigger = connection.CreateCommand();
            trigger.CommandText = "CREATE TRIGGER fail_lease_mark BEFORE INSERT ON settled_leases BEGIN SELECT RAISE(ABORT, 'injected'); END;";
            await trigger.ExecuteNonQueryAsync(None);
        }

        await Assert.ThrowsAsync<SqliteException>(() =>
            store.AppendAsync([TestAuditRecords.Minimal("r0"), TestAuditRecords.Full("r1") with { ReservationId = "rsv_1" }], None));

        Assert.Empty(await store.ReadAsync(new UsageQuery(), 10, None));
        Assert.Equal([TestAuditRecords.Lease("rsv_1")], await store.ReadLeasesAsync(None));
    }

    [Fact]
    public async Task AppendAsync_WhileAnotherConnectionHoldsTheWriteLock_KeepsLeasesAndWritesNothing_LeasesStillRecorded()
    {
        var database = await _file.OpenAsync(TimeSpan.FromMilliseconds(50));
        var store = new SqliteLedgerStore(database);
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_1"), None);
        var other = await _file.OpenAsync();
        await using var holder = await other.OpenConnectionAsync(None);
        await using var exclusive = holder.CreateCommand();
        exclusive.CommandText = "BEGIN EXCLUSIVE;";
        await exclusive.ExecuteNonQueryAsync(None);

        await Assert.ThrowsAsync<SqliteException>(() => store.AppendAsync([TestAuditRecords.Full() with { ReservationId = "rsv_1" }], None));
        // A lease is a line of the lease journal: it needs no lock of the database.
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_2"), None);

        exclusive.CommandText = "ROLLBACK;";
        await exclusive.ExecuteNonQueryAsync(None);
        Assert.Empty(await store.ReadAsync(new UsageQuery(), 10, None));
        Assert.Equal(["rsv_1", "rsv_2"], (await store.ReadLeasesAsync(None)).Select(l => l.Id));
    }

    [Fact]
    public async Task ReadAsync_DuringAnotherConnectionsUncommittedBatch_SeesNoneOfIt()
    {
        var database = await _file.OpenAsync();
        var store = new SqliteLedgerStore(database);
        await store.AppendAsync([TestAuditRecords.Minimal("before")], None);
        await using var writer = await database.OpenConnectionAsync(None);
        await using var transaction = writer.BeginTransaction(deferred: false);
        using (var insert = new AuditInsertCommand(writer))
        {
            insert.Execute(TestAuditRecords.Minimal("pending-1"));
            insert.Execute(TestAuditRecords.Minimal("pending-2"));
        }

        Assert.Equal(["before"], (await store.ReadAsync(new UsageQuery(), 10, None)).Select(r => r.RequestId));
        await transaction.CommitAsync(None);

        Assert.Equal(["before", "pending-1", "pending-2"], (await store.ReadAsync(new UsageQuery(), 10, None)).Select(r => r.RequestId));
    }

    [Fact]
    public async Task AuditInsert_RowTheTableRefuses_ThrowsSqliteErrorAndTheStatementServesTheNextRow()
    {
        var database = await _file.OpenAsync();
        await using var writer = await database.OpenConnectionAsync(None);
        await using var transaction = writer.BeginTransaction(deferred: false);
        using (var insert = new AuditInsertCommand(writer))
        {
            var error = Assert.Throws<SqliteException>(() => insert.Execute(TestAuditRecords.Minimal("no-endpoint") with { Endpoint = null! }));
            Assert.Equal((19, 1299), (error.SqliteErrorCode, error.SqliteExtendedErrorCode)); // SQLITE_CONSTRAINT_NOTNULL
            Assert.Contains("audit.endpoint", error.Message, StringComparison.Ordinal);
            insert.Execute(Mixed("after"));
            insert.Execute(Mixed("after-2") with { Stream = false, ClientAborted = true, Overshoot = false, UsageClamped = true });
        }

        await transaction.CommitAsync(None);
        // Each flag apart from the others: a value bound to another flag's column would not read back equal.
        Assert.Equal([Mixed("after"), Mixed("after-2") with { Stream = false, ClientAborted = true, Overshoot = false, UsageClamped = true }],
            await new SqliteLedgerStore(database).ReadAsync(new UsageQuery(), 10, None));

        static AuditRecord Mixed(string id) =>
            TestAuditRecords.Full(id, TestAuditRecords.T0.AddMilliseconds(id.Length)) with { Stream = true, ClientAborted = false, Overshoot = true, UsageClamped = false };
    }

    [Fact]
    public async Task AppendAsync_TenThousandRowBatch_RoundTripsExactly()
    {
        var store = new SqliteLedgerStore(await _file.OpenAsync());
        var records = Enumerable.Range(0, 10_000)
            .Select(i => TestAuditRecords.Full($"req-{i}", TestAuditRecords.T0.AddMilliseconds(i)) with { CostNanos = (1L << 62) - i, Status = 200 + (i % 300) })
            .ToList();

        var stopwatch = Stopwatch.StartNew();
        await store.AppendAsync(records, None);
        stopwatch.Stop();

        Assert.Equal(records, await store.ReadAsync(new UsageQuery(), 20_000, None));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"10k rows took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task DeleteBeforeAsync_MoreThanOneChunk_DeletesAll()
    {
        var store = new SqliteLedgerStore(await _file.OpenAsync());
        await store.AppendAsync([.. Enumerable.Range(0, 12_001).Select(i => TestAuditRecords.Minimal($"r{i}", TestAuditRecords.T0.AddMilliseconds(i)))], None);

        Assert.Equal(12_000, await store.DeleteBeforeAsync(TestAuditRecords.T0.AddMilliseconds(12_000), None));

        Assert.Equal(["r12000"], (await store.ReadAsync(new UsageQuery(), 10, None)).Select(r => r.RequestId));
    }

    [Fact]
    public async Task CreateAsync_ThroughTwoInstancesConcurrently_StoresEveryKey()
    {
        var a = new SqliteApiKeyStore(await _file.OpenAsync());
        var b = new SqliteApiKeyStore(await _file.OpenAsync(TimeSpan.FromSeconds(4)));

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            (i % 2 == 0 ? a : b).CreateAsync(TestKeys.Key($"key_{i:D2}"), TestKeys.Hash(i), None))));

        Assert.Equal(40, (await a.ListAsync(null, None)).Count);
    }

    private static async Task<object?> ScalarAsync(SqliteDatabase database, string sql)
    {
        await using var connection = await database.OpenConnectionAsync(None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(None);
    }
}
