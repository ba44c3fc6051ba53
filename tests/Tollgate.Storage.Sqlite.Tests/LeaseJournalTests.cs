using Microsoft.Data.Sqlite;
using Tollgate.Audit;
using Tollgate.Stores.Contracts;

namespace Tollgate.Storage.Sqlite.Tests;

/// <summary>
/// The lease journal beside the database: what a restart (a new <see cref="SqliteDatabase"/> on the same file, as after
/// the process was killed) finds open, across settling, rewriting, torn lines and rows an older version left.
/// </summary>
public sealed class LeaseJournalTests : IDisposable
{
    private static CancellationToken None => CancellationToken.None;
    private readonly TempDatabaseFile _file = new();

    public void Dispose() => _file.Dispose();

    private string JournalPath => _file.Path + "-leases";

    [Fact]
    public async Task Restart_LeasesSettledBeforeItAreGone_TheOthersOpenWithTheirBackgroundIds()
    {
        var store = new SqliteLedgerStore(await _file.OpenAsync());
        foreach (string id in (string[])["rsv_1", "rsv_2", "rsv_3", "rsv_4"])
        {
            await store.AddLeaseAsync(TestAuditRecords.Lease(id), None);
        }

        await store.MarkBackgroundAsync("rsv_3", "resp_3", None);
        await store.AppendAsync([TestAuditRecords.Full("r1") with { ReservationId = "rsv_1" }], None);
        await store.AppendAsync([TestAuditRecords.Full("r4") with { ReservationId = "rsv_9", Attempts = [Attempt("rsv_9"), Attempt("rsv_4")] }], None);

        var restarted = new SqliteLedgerStore(await _file.OpenAsync());

        Assert.Equal([TestAuditRecords.Lease("rsv_2"), TestAuditRecords.Lease("rsv_3") with { BackgroundResponseId = "resp_3" }],
            await restarted.ReadLeasesAsync(None));
        // Opening rewrote the file with the open leases: the marks of the settled ones are not needed any more.
        Assert.Equal(0, await CountAsync(await _file.OpenAsync(), "settled_leases"));
    }

    [Fact]
    public async Task Rotation_PastItsBound_FileShrinksToTheOpenLeases_MarksCleared_RestartSeesTheSame()
    {
        var database = await _file.OpenAsync();
        database.Leases.RotateAt = 4096;
        var store = new SqliteLedgerStore(database);
        await store.AddLeaseAsync(TestAuditRecords.Lease("keep"), None);
        await store.MarkBackgroundAsync("keep", "resp_keep", None);
        long grown = 0;
        for (int i = 0; i < 40; i++)
        {
            await store.AddLeaseAsync(TestAuditRecords.Lease($"rsv_{i:D2}"), None);
            grown = Math.Max(grown, database.Leases.Length);
            await store.AppendAsync([TestAuditRecords.Full($"r{i}") with { ReservationId = $"rsv_{i:D2}" }], None);
        }

        // Each batch past the bound rewrote the file first: it never held much more than the bound and one batch.
        Assert.InRange(grown, 4096, 4096 + 2048);
        Assert.True(database.Leases.Length < grown);
        Assert.InRange(await CountAsync(database, "settled_leases"), 1, 39);
        Assert.Equal(["keep"], (await store.ReadLeasesAsync(None)).Select(l => l.Id));

        var restarted = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal([TestAuditRecords.Lease("keep") with { BackgroundResponseId = "resp_keep" }], await restarted.ReadLeasesAsync(None));
        Assert.Equal(40, (await restarted.ReadAsync(new UsageQuery(), 100, None)).Count);
    }

    [Fact]
    public async Task Restart_LastLineTornByAKill_IgnoredAndTheNextLeaseReadsOnItsOwnLine()
    {
        var store = new SqliteLedgerStore(await _file.OpenAsync());
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_1"), None);
        // A writer killed mid-write leaves part of a line, with no line feed: its caller was never answered.
        await File.AppendAllTextAsync(JournalPath, "\n{\"k\":\"l\",\"id\":\"torn\",\"ts\":17");

        var restarted = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal(["rsv_1"], (await restarted.ReadLeasesAsync(None)).Select(l => l.Id));
        await File.AppendAllTextAsync(JournalPath, "\n{\"k\":\"l\",\"id\":\"torn-again\"");
        await restarted.AddLeaseAsync(TestAuditRecords.Lease("rsv_2"), None);

        var again = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal(["rsv_1", "rsv_2"], (await again.ReadLeasesAsync(None)).Select(l => l.Id));
    }

    [Fact]
    public async Task Restart_LineTornByAKillInsideTheMappedTail_IgnoredAndTheNextLeaseReadsOnItsOwnLine()
    {
        // A kill mid-copy leaves a line's first bytes where it was being written, zeros after them.
        var database = await _file.OpenAsync();
        var store = new SqliteLedgerStore(database);
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_1"), None);
        await using (var file = new FileStream(JournalPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.Position = database.Leases.Length;
            file.Write("\n{\"k\":\"l\",\"id\":\"torn\",\"ts\":17"u8);
        }

        Assert.True(new FileInfo(JournalPath).Length > database.Leases.Length + 4096, "the mapping reaches past the lines");
        var restarted = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal(["rsv_1"], (await restarted.ReadLeasesAsync(None)).Select(l => l.Id));
        await restarted.AddLeaseAsync(TestAuditRecords.Lease("rsv_2"), None);

        var again = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal(["rsv_1", "rsv_2"], (await again.ReadLeasesAsync(None)).Select(l => l.Id));
    }

    [Fact]
    public async Task AddLeaseAsync_PastTheMappedCapacity_RemapsAndKeepsEveryLease()
    {
        // 4,000 leases of about 370 bytes with no batch to rotate the file: past the first mapping's 1.06 MiB.
        var database = await _file.OpenAsync();
        database.Leases.RotateAt = 4096;
        var store = new SqliteLedgerStore(database);
        for (int i = 0; i < 4000; i++)
        {
            await store.AddLeaseAsync(TestAuditRecords.Lease($"rsv_{i:D4}"), None);
        }

        Assert.True(database.Leases.Length > LeaseJournal.Headroom + 4096, $"{database.Leases.Length} bytes written");
        Assert.True(new FileInfo(JournalPath).Length >= database.Leases.Length);
        var restarted = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal(4000, (await restarted.ReadLeasesAsync(None)).Count);
    }

    [Fact]
    public async Task AddLeaseAsync_PagesMadeReadyAheadOfTheLines_AcrossARemap_EveryLeaseReadsBack()
    {
        var database = await _file.OpenAsync();
        database.Leases.RotateAt = 4096;
        var store = new SqliteLedgerStore(database);
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_00000"), None);
        long firstCapacity = database.Leases.Capacity;
        int count = 1;
        // Past the first mapping (about 1 MiB), so that the second one is made ready too.
        while (database.Leases.Length <= firstCapacity + LeaseJournal.PopulateAhead)
        {
            await store.AddLeaseAsync(TestAuditRecords.Lease($"rsv_{count++:D5}"), None);
            long length = database.Leases.Length;
            long populated = database.Leases.PopulatedBytes;
            if (OperatingSystem.IsLinux() && Environment.OSVersion.Version >= new Version(5, 14))
            {
                // Always past the lines, at most PopulateAhead (and a page) past them, never past the mapping.
                Assert.False(LeaseJournal.PopulateRefused);
                Assert.True(populated >= length, $"{populated} bytes ready, {length} written");
                Assert.True(populated <= Math.Min(database.Leases.Capacity, length + LeaseJournal.PopulateAhead + Environment.SystemPageSize),
                    $"{populated} bytes ready, {length} written");
            }
            else if (!OperatingSystem.IsLinux())
            {
                Assert.Equal(0, populated);
            }
        }

        Assert.True(database.Leases.Capacity > firstCapacity);
        var restarted = new SqliteLedgerStore(await _file.OpenAsync());
        var leases = await restarted.ReadLeasesAsync(None);
        Assert.Equal(count, leases.Count);
        Assert.Equal(TestAuditRecords.Lease("rsv_00000"), leases[0]);
    }

    [Fact]
    public async Task Rotate_NewFileCannotBeMade_ThrowsAndTheOldFileStaysInUse()
    {
        var database = await _file.OpenAsync();
        var store = new SqliteLedgerStore(database);
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_1"), None);
        Directory.CreateDirectory(JournalPath + ".next");

        Assert.Throws<UnauthorizedAccessException>(database.Leases.Rotate);
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_2"), None);

        Directory.Delete(JournalPath + ".next");
        var restarted = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal(["rsv_1", "rsv_2"], (await restarted.ReadLeasesAsync(None)).Select(l => l.Id));
    }

    [Fact]
    public async Task AppendAsync_RotationCannotMakeItsFile_RecordsStillCommittedMarksKept_NextBatchRotates()
    {
        var database = await _file.OpenAsync();
        database.Leases.RotateAt = 1024;
        var store = new SqliteLedgerStore(database);
        for (int i = 0; i < 5; i++)
        {
            await store.AddLeaseAsync(TestAuditRecords.Lease($"rsv_{i}"), None);
        }

        Directory.CreateDirectory(JournalPath + ".next");
        await store.AppendAsync([TestAuditRecords.Full("r0") with { ReservationId = "rsv_0" }], None);

        Assert.Single(await store.ReadAsync(new UsageQuery(), 100, None));
        Assert.Equal(1, await CountAsync(database, "settled_leases"));
        Assert.True(database.Leases.ShouldRotate);

        Directory.Delete(JournalPath + ".next");
        await store.AppendAsync([TestAuditRecords.Full("r1") with { ReservationId = "rsv_1" }], None);

        // Rotated, rsv_0's mark cleared with it; rsv_1's is the one left (two if the batch had not rotated).
        Assert.Equal(1, await CountAsync(database, "settled_leases"));
        var restarted = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal(["rsv_2", "rsv_3", "rsv_4"], (await restarted.ReadLeasesAsync(None)).Select(l => l.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Dispose_CutsTheFileToItsLines()
    {
        var database = await _file.OpenAsync();
        var store = new SqliteLedgerStore(database);
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_1"), None);
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_2"), None);
        long length = database.Leases.Length;

        database.Leases.Dispose();

        byte[] bytes = await File.ReadAllBytesAsync(JournalPath);
        Assert.Equal(length, bytes.Length);
        Assert.Equal("}\n"u8.ToArray(), bytes[^2..]);
        Assert.DoesNotContain((byte)0, bytes);
    }

    [Fact]
    public async Task Open_RowsAnOlderVersionLeftInTheTable_MovedToTheJournal()
    {
        var database = await _file.OpenAsync();
        await using (var connection = await database.OpenConnectionAsync(None))
        {
            await using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO reservation_leases (id, ts, request_id, endpoint, key_id, tenant, user, model, upstream, task, source_address,
                    input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_nanos, tool_calls, tool_fee_nanos, background_response_id)
                VALUES ('old_1', 1767225600000, 'req-old', 'responses', 'key_old', 'acme', 'bob', 'sim-mini', 'simulator', NULL, NULL,
                    10, 0, 20, 0, 300, 0, 0, 'resp_old');
                """;
            await insert.ExecuteNonQueryAsync(None);
        }

        var store = new SqliteLedgerStore(database);
        await store.AddLeaseAsync(TestAuditRecords.Lease("rsv_1"), None);

        var leases = await store.ReadLeasesAsync(None);
        Assert.Equal(["old_1", "rsv_1"], leases.OrderBy(l => l.Id, StringComparer.Ordinal).Select(l => l.Id));
        Assert.Equal(("resp_old", 300L), (leases.Single(l => l.Id == "old_1").BackgroundResponseId, leases.Single(l => l.Id == "old_1").CostNanos));
        Assert.Equal(0, await CountAsync(database, "reservation_leases"));
        var restarted = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal(2, (await restarted.ReadLeasesAsync(None)).Count);
    }

    [Fact]
    public async Task AddLeaseAsync_ManyAtOnce_EachOnItsOwnLine_AllReadBackAfterARestart()
    {
        var store = new SqliteLedgerStore(await _file.OpenAsync());
        var ids = Enumerable.Range(0, 500).Select(i => $"rsv_{i:D3}").ToList();

        await Task.WhenAll(ids.Select(id => Task.Run(() => store.AddLeaseAsync(TestAuditRecords.Lease(id), None))));

        var restarted = new SqliteLedgerStore(await _file.OpenAsync());
        Assert.Equal(ids, (await restarted.ReadLeasesAsync(None)).Select(l => l.Id));
    }

    private static UpstreamAttempt Attempt(string reservationId) => new()
    {
        Upstream = "simulator",
        Model = "sim-large",
        Status = 200,
        Reason = "ok",
        ReservationId = reservationId,
    };

    private static async Task<long> CountAsync(SqliteDatabase database, string table)
    {
        await using var connection = await database.OpenConnectionAsync(None);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table};";
        return (long)(await command.ExecuteScalarAsync(None))!;
    }
}
