using Microsoft.Data.Sqlite;
using Tollgate.Stores.Contracts;

namespace Tollgate.Storage.Sqlite.Tests;

public sealed class KeyGenerationCacheTests : IDisposable
{
    private readonly TempDatabaseFile _file = new();

    public void Dispose() => _file.Dispose();

    [Fact]
    public async Task ReadGeneration_NothingCommittedBetween_ReadsTheTableOnlyUntilTheWalIndexIsKnown()
    {
        using var cache = new KeyGenerationCache(await _file.OpenAsync());

        long first = cache.ReadGeneration();
        var later = Enumerable.Range(0, 100).Select(_ => cache.ReadGeneration()).ToList();

        Assert.All(later, g => Assert.Equal(first, g));
        // The first read maps the wal-index; the second is the first taken with its header; the rest compare headers.
        Assert.Equal(2, cache.TableReads);
    }

    [Fact]
    public async Task FindBySecretHash_KeyRevokedThroughAnotherHandle_TheVeryNextLookupSeesIt()
    {
        // A second SqliteDatabase on the file has its own connections, as the command line's process does.
        using var gateway = new SqliteApiKeyStore(await _file.OpenAsync());
        using var cli = new SqliteApiKeyStore(await _file.OpenAsync());
        await cli.CreateAsync(TestKeys.Key("key_1"), TestKeys.Hash(1), CancellationToken.None);
        for (int i = 0; i < 5; i++)
        {
            Assert.Null((await gateway.FindBySecretHashAsync(TestKeys.Hash(1), CancellationToken.None))!.Key.RevokedAt);
        }

        Assert.True(await cli.RevokeAsync("key_1", TestKeys.T0, CancellationToken.None));

        Assert.Equal(TestKeys.T0, (await gateway.FindBySecretHashAsync(TestKeys.Hash(1), CancellationToken.None))!.Key.RevokedAt);
    }

    [Fact]
    public async Task ReadGeneration_AfterACommitElsewhere_ReadsTheTableOnceThenComparesAgain()
    {
        var database = await _file.OpenAsync();
        using var cache = new KeyGenerationCache(database);
        long generation = cache.ReadGeneration();
        cache.ReadGeneration();
        long reads = cache.TableReads;

        // A commit that leaves the key tables alone (the ledger's, say) still changes the header: one read, same number.
        await ExecuteAsync(await _file.OpenAsync(), "INSERT INTO settled_leases (id) VALUES ('res_1');");
        Assert.Equal(generation, cache.ReadGeneration());
        Assert.Equal(reads + 1, cache.TableReads);
        Assert.Equal(generation, cache.ReadGeneration());
        Assert.Equal(reads + 1, cache.TableReads);

        // A change to the key tables, by trigger, bumps the number.
        await ExecuteAsync(await _file.OpenAsync(), "UPDATE key_generation SET value = value + 1 WHERE id = 1;");
        Assert.Equal(generation + 1, cache.ReadGeneration());
        Assert.Equal(reads + 2, cache.TableReads);
    }

    [Fact]
    public async Task ReadGeneration_RacingWithAWriterOfAnotherHandle_NeverBehindACommittedGeneration()
    {
        // Readers on four threads check that a read started after a commit returned sees at least that commit's number,
        // while a writer with its own connection bumps it 300 times, each time once the readers have read 20 more times
        // (most of those compare headers only).
        using var cache = new KeyGenerationCache(await _file.OpenAsync());
        var writerDatabase = await _file.OpenAsync();
        long committed = cache.ReadGeneration();
        long calls = 0;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            long last = long.MinValue;
            while (!stop.IsCancellationRequested)
            {
                long floor = Volatile.Read(ref committed);
                long read = cache.ReadGeneration();
                Interlocked.Increment(ref calls);
                Assert.True(read >= floor, $"read {read} after {floor} was committed");
                Assert.True(read >= last, $"read {read} after reading {last}");
                last = read;
            }
        })).ToList();

        await using (var connection = writerDatabase.OpenConnection())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE key_generation SET value = value + 1 WHERE id = 1 RETURNING value;";
            for (int i = 0; i < 300; i++)
            {
                Volatile.Write(ref committed, (long)(await command.ExecuteScalarAsync())!);
                Assert.Equal(Volatile.Read(ref committed), cache.ReadGeneration());
                Interlocked.Increment(ref calls);
                long target = Interlocked.Read(ref calls) + 20;
                SpinWait.SpinUntil(() => Interlocked.Read(ref calls) >= target || readers.Any(r => r.IsCompleted));
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(cache.TableReads * 4 < Interlocked.Read(ref calls), $"{cache.TableReads} of {calls} reads went to the table");
    }

    [Fact]
    public void WalIndex_NoFile_None_TooShort_KeptOpenButNeverReadsAsKnown()
    {
        string path = Path.Combine(_file.Directory, "none.db");
        Assert.Null(WalIndex.TryOpen(path));

        File.WriteAllBytes(path + "-shm", new byte[95]);
        using var wal = WalIndex.TryOpen(path);
        Assert.NotNull(wal);
        Assert.False(wal.IsMapped);
        Assert.False(wal.TryRead(out _));
    }

    [Fact]
    public async Task ReadGeneration_WalIndexDeletedAndMadeAgainWhileNoConnectionWasOpen_TheNewOneIsWatched()
    {
        // The last connection of the last process may delete the wal-index file; the next one makes a new file. A
        // lookup that failed closed its connection: the next one must watch the new file, not the deleted one.
        var database = await _file.OpenAsync();
        using var cache = new KeyGenerationCache(database);
        cache.ReadGeneration();
        cache.ReadGeneration();
        var other = await _file.OpenAsync();
        await ExecuteAsync(other, "DELETE FROM key_generation;");
        Assert.Throws<InvalidDataException>(() => cache.ReadGeneration());
        await ExecuteAsync(other, "INSERT INTO key_generation (id, value) VALUES (1, 100);");
        // Idle connections closed as a pool prunes them (the views mapped by the cache stay, as in a running gateway).
        SqliteConnection.ClearAllPools();
        File.Delete(database.Path + "-shm");

        var writer = await _file.OpenAsync();
        await ExecuteAsync(writer, "UPDATE key_generation SET value = 101 WHERE id = 1;");
        Assert.Equal(101, cache.ReadGeneration());
        Assert.Equal(101, cache.ReadGeneration());
        await ExecuteAsync(writer, "UPDATE key_generation SET value = 102 WHERE id = 1;");

        Assert.Equal(102, cache.ReadGeneration());
    }

    [Fact]
    public async Task ReadGeneration_DatabaseOpenedThroughASymbolicLink_WatchesTheWalIndexSqliteUses()
    {
        // SQLite resolves the link and keeps its -shm beside the real file. A stale -shm beside the link, with a valid
        // looking header that never changes, must not be the one compared.
        var real = await _file.OpenAsync();
        string linkDirectory = Directory.CreateTempSubdirectory("tollgate-link-").FullName;
        try
        {
            string link = Path.Combine(linkDirectory, "linked.db");
            File.CreateSymbolicLink(link, real.Path);
            var stale = new byte[32 * 1024];
            stale[12] = 1;
            stale[48 + 12] = 1;
            File.WriteAllBytes(link + "-shm", stale);
            var linked = new SqliteDatabase(link);
            using var cache = new KeyGenerationCache(linked);
            long generation = cache.ReadGeneration();
            cache.ReadGeneration();

            await ExecuteAsync(real, "UPDATE key_generation SET value = value + 1 WHERE id = 1;");

            Assert.Equal(generation + 1, cache.ReadGeneration());
            linked.ClearPool();
        }
        finally
        {
            Directory.Delete(linkDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task ReadGeneration_AfterDispose_Throws()
    {
        var cache = new KeyGenerationCache(await _file.OpenAsync());
        cache.ReadGeneration();
        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.ReadGeneration());
    }

    [Fact]
    public void WalIndex_HeaderNotInitialized_NeverReadsAsKnown()
    {
        string path = Path.Combine(_file.Directory, "blank.db");
        File.WriteAllBytes(path + "-shm", new byte[32 * 1024]);

        using var wal = WalIndex.TryOpen(path);

        Assert.NotNull(wal);
        Assert.False(wal.TryRead(out _));
    }

    [Fact]
    public async Task WalIndex_OfALiveDatabase_ChangesWithEachCommitAndOnlyThen()
    {
        var database = await _file.OpenAsync();
        await ExecuteAsync(database, "SELECT 1;");
        using var wal = WalIndex.TryOpen(database.Path);
        Assert.NotNull(wal);

        Assert.True(wal.TryRead(out var before));
        await ExecuteAsync(database, "SELECT count(*) FROM audit;");
        Assert.True(wal.TryRead(out var afterRead));
        await ExecuteAsync(database, "INSERT INTO settled_leases (id) VALUES ('res_2');");
        Assert.True(wal.TryRead(out var afterCommit));

        Assert.Equal(before, afterRead);
        Assert.NotEqual(before, afterCommit);
    }

    private static async Task ExecuteAsync(SqliteDatabase database, string sql)
    {
        await using var connection = database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
