using Tollgate.Audit;
using Tollgate.Pricing;
using static Tollgate.Stores.Contracts.TestAuditRecords;

namespace Tollgate.Stores.Contracts;

/// <summary>Admission fields of records, reservation leases and their settlement, and the start-up read of allowed records.</summary>
public abstract partial class LedgerStoreContractTests
{
    [Fact]
    public async Task ReadAsync_AfterAppend_AdmissionFieldsRoundTripExactly()
    {
        var store = await CreateStoreAsync();
        var reserved = Minimal("r-reserved", T0.AddMilliseconds(2)) with { UsageSource = UsageSource.Reserved, OutputCap = 0, Task = "" };

        await store.AppendAsync([Full(), Minimal(at: T0.AddMilliseconds(1)), reserved], None);

        var read = await store.ReadAsync(All, 10, None);
        Assert.Equal([Full(), Minimal(at: T0.AddMilliseconds(1)), reserved], read);
        Assert.Equal("task-ünï-42", read[0].Task);
        Assert.Equal("2001:db8:85a3::/64", read[0].SourceAddress);
        Assert.Equal("rsv_full", read[0].ReservationId);
        Assert.Equal(int.MaxValue + 9L, read[0].OutputCap);
        Assert.True(read[0].Overshoot);
        Assert.Equal("tenant acme: tokens per minute; key key_1: requests per day", read[0].ShadowRefusals);
        Assert.Equal("plan basic: 80% of budget per day", read[0].Warning);
        Assert.Null(read[1].Task);
        Assert.Null(read[1].SourceAddress);
        Assert.Null(read[1].ReservationId);
        Assert.Null(read[1].OutputCap);
        Assert.False(read[1].Overshoot);
        Assert.Null(read[1].ShadowRefusals);
        Assert.Null(read[1].Warning);
        Assert.Equal(UsageSource.Reserved, read[2].UsageSource);
        Assert.Equal(0L, read[2].OutputCap);
        Assert.Equal("", read[2].Task);
    }

    [Fact]
    public async Task ReadLeasesAsync_Empty_ReturnsEmpty()
    {
        var store = await CreateStoreAsync();

        Assert.Empty(await store.ReadLeasesAsync(None));
    }

    [Fact]
    public async Task ReadLeasesAsync_AfterAdd_EveryFieldRoundTripsExactly()
    {
        var store = await CreateStoreAsync();

        await store.AddLeaseAsync(Lease("rsv_1"), None);
        await store.AddLeaseAsync(MinimalLease("rsv_2", T0.AddMilliseconds(1)), None);

        var leases = await store.ReadLeasesAsync(None);
        Assert.Equal([Lease("rsv_1"), MinimalLease("rsv_2", T0.AddMilliseconds(1))], leases);
        Assert.Equal(new TokenUsage(int.MaxValue + 3L, 0, 4096L * 128, 0) { ToolCalls = 17 }, leases[0].Usage);
        Assert.Equal((1L << 62) - 3, leases[0].CostNanos);
        Assert.Equal(170_000_000, leases[0].ToolFeeNanos);
        Assert.Null(leases[1].Task);
        Assert.Null(leases[1].SourceAddress);
    }

    [Fact]
    public async Task ReadLeasesAsync_SeveralLeases_OrderedByTimestampThenId()
    {
        var store = await CreateStoreAsync();
        await store.AddLeaseAsync(Lease("rsv_c", T0.AddSeconds(1)), None);
        await store.AddLeaseAsync(Lease("rsv_b", T0), None);
        await store.AddLeaseAsync(Lease("rsv_a", T0.AddSeconds(1)), None);

        var leases = await store.ReadLeasesAsync(None);

        Assert.Equal(["rsv_b", "rsv_a", "rsv_c"], leases.Select(l => l.Id));
    }

    [Fact]
    public async Task AddLeaseAsync_DuplicateId_ThrowsAndKeepsOriginal()
    {
        var store = await CreateStoreAsync();
        await store.AddLeaseAsync(Lease("rsv_1"), None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.AddLeaseAsync(Lease("rsv_1") with { CostNanos = 1 }, None));

        Assert.Equal([Lease("rsv_1")], await store.ReadLeasesAsync(None));
    }

    [Fact]
    public async Task MarkBackgroundAsync_Lease_ReadBackWithItsResponseIdAndDeletedByItsRecord()
    {
        var store = await CreateStoreAsync();
        await store.AddLeaseAsync(Lease("rsv_1"), None);
        await store.AddLeaseAsync(Lease("rsv_2"), None);

        await store.MarkBackgroundAsync("rsv_2", "resp_abc", None);
        await store.MarkBackgroundAsync("rsv_gone", "resp_def", None);

        Assert.Equal([Lease("rsv_1"), Lease("rsv_2") with { BackgroundResponseId = "resp_abc" }], await store.ReadLeasesAsync(None));
        await store.AppendAsync([Full("r2") with { ReservationId = "rsv_2" }], None);
        Assert.Equal([Lease("rsv_1")], await store.ReadLeasesAsync(None));
    }

    [Fact]
    public async Task AppendAsync_RecordSettlingLease_DeletesThatLeaseOnly()
    {
        var store = await CreateStoreAsync();
        await store.AddLeaseAsync(Lease("rsv_1"), None);
        await store.AddLeaseAsync(Lease("rsv_2"), None);
        await store.AddLeaseAsync(Lease("rsv_3"), None);

        await store.AppendAsync([Minimal("r1"), Full("r2") with { ReservationId = "rsv_2" }], None);

        Assert.Equal(["rsv_1", "rsv_3"], (await store.ReadLeasesAsync(None)).Select(l => l.Id));
        Assert.Equal(["r1", "r2"], (await store.ReadAsync(All, 10, None)).Select(r => r.RequestId));
    }

    [Fact]
    public async Task AppendAsync_BatchSettlingSeveralLeases_DeletesEachAndIgnoresUnknownIds()
    {
        var store = await CreateStoreAsync();
        await store.AddLeaseAsync(Lease("rsv_1"), None);
        await store.AddLeaseAsync(Lease("rsv_2"), None);
        await store.AddLeaseAsync(Lease("rsv_3"), None);

        await store.AppendAsync(
        [
            Full("r1") with { ReservationId = "rsv_3" },
            Full("r2") with { ReservationId = "rsv_missing" },
            Full("r3") with { ReservationId = "rsv_1" },
            Full("r4") with { ReservationId = "RSV_2" },
        ], None);

        Assert.Equal(["rsv_2"], (await store.ReadLeasesAsync(None)).Select(l => l.Id));
        Assert.Equal(4, (await store.ReadAsync(All, 10, None)).Count);
    }

    [Fact]
    public async Task AppendAsync_SettledLeaseAddedAgain_IsStoredAfresh()
    {
        var store = await CreateStoreAsync();
        await store.AddLeaseAsync(Lease("rsv_1"), None);
        await store.AppendAsync([Full("r1") with { ReservationId = "rsv_1" }], None);

        await store.AddLeaseAsync(Lease("rsv_1", T0.AddSeconds(1)), None);

        Assert.Equal([Lease("rsv_1", T0.AddSeconds(1))], await store.ReadLeasesAsync(None));
    }

    [Fact]
    public async Task ReadAllowedSinceAsync_Empty_YieldsNothing()
    {
        var store = await CreateStoreAsync();

        Assert.Empty(await ToListAsync(store.ReadAllowedSinceAsync(T0, None)));
    }

    [Fact]
    public async Task ReadAllowedSinceAsync_MixedRecords_YieldsAllowedAtOrAfterSinceOldestFirst()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync(
        [
            Usage("acme", "alice", "m", 1, 0, 1, 0, 1, T0.AddSeconds(3), "late"),
            Usage("acme", "alice", "m", 1, 0, 1, 0, 1, T0.AddSeconds(-1), "before"),
            Usage("acme", "alice", "m", 1, 0, 1, 0, 1, T0, "at-since"),
            Usage("acme", "alice", "m", 0, 0, 0, 0, 0, T0.AddSeconds(1), "refused", Decisions.Refused, UsageSource.None),
        ], None);
        await store.AppendAsync(
        [
            Usage("acme", "bob", "m", 1, 0, 1, 0, 1, T0.AddSeconds(2), "tie-1"),
            Minimal("refused-min", T0.AddSeconds(2)),
            Usage("acme", "bob", "m", 1, 0, 1, 0, 1, T0.AddSeconds(2), "tie-2"),
            Usage("acme", "bob", "m", 1, 0, 1, 0, 1, T0.AddSeconds(1), "early"),
        ], None);

        var read = await ToListAsync(store.ReadAllowedSinceAsync(T0, None));

        Assert.Equal(["at-since", "early", "tie-1", "tie-2", "late"], read.Select(r => r.RequestId));
    }

    [Fact]
    public async Task ReadAllowedSinceAsync_Since_IsInclusiveAndExact()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync([Full("r1", T0), Full("r2", T0.AddMilliseconds(1)), Full("r3", T0.AddMilliseconds(2))], None);

        Assert.Equal(["r2", "r3"], (await ToListAsync(store.ReadAllowedSinceAsync(T0.AddMilliseconds(1), None))).Select(r => r.RequestId));
        // An instant between two milliseconds excludes the earlier one.
        Assert.Equal(["r3"], (await ToListAsync(store.ReadAllowedSinceAsync(T0.AddMilliseconds(1).AddTicks(1), None))).Select(r => r.RequestId));
    }

    [Fact]
    public async Task ReadAllowedSinceAsync_AllowedRecord_EveryFieldRoundTripsExactly()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync([Full()], None);

        Assert.Equal([Full()], await ToListAsync(store.ReadAllowedSinceAsync(T0.AddDays(-1), None)));
    }

    [Fact]
    public async Task ReadAllowedSinceAsync_StoppedEarly_LeavesTheStoreUsable()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync([.. Enumerable.Range(0, 500).Select(i => Full($"r{i}", T0.AddMilliseconds(i)))], None);

        var first = new List<string>();
        await foreach (var record in store.ReadAllowedSinceAsync(T0, None))
        {
            first.Add(record.RequestId);
            if (first.Count == 3)
            {
                break;
            }
        }

        await store.AppendAsync([Full("after", T0.AddDays(1))], None);
        Assert.Equal(["r0", "r1", "r2"], first);
        Assert.Equal("after", (await ToListAsync(store.ReadAllowedSinceAsync(T0.AddHours(1), None))).Single().RequestId);
    }

    private static async Task<List<AuditRecord>> ToListAsync(IAsyncEnumerable<AuditRecord> records)
    {
        var list = new List<AuditRecord>();
        await foreach (var record in records)
        {
            list.Add(record);
        }

        return list;
    }
}
