using Tollgate.Audit;
using Tollgate.Pricing;
using static Tollgate.Stores.Contracts.TestAuditRecords;

namespace Tollgate.Stores.Contracts;

/// <summary>The attempts of a request that was retried or went to a fallback: stored with its record, and each attempt's lease settled with it.</summary>
public abstract partial class LedgerStoreContractTests
{
    [Fact]
    public async Task ReadAsync_AfterAppend_AttemptsRoundTripExactlyInOrder()
    {
        var store = await CreateStoreAsync();
        var record = Full("r-attempts") with { Attempts = Attempts() };

        await store.AppendAsync([record, Minimal("r-none")], None);

        var read = await store.ReadAsync(All, 10, None);
        Assert.Equal(Attempts(), read[0].Attempts!);
        Assert.Equal(record with { Attempts = null }, read[0] with { Attempts = null });
        Assert.Null(read[1].Attempts);
        Assert.Equal(Attempts(), (await ToListAsync(store.ReadAllowedSinceAsync(T0, None)))[0].Attempts!);
    }

    [Fact]
    public async Task ReadAsync_EmptyAttempts_StaysEmptyNotNull()
    {
        var store = await CreateStoreAsync();

        await store.AppendAsync([Full("r-empty") with { Attempts = [] }], None);

        Assert.Empty((await store.ReadAsync(All, 10, None))[0].Attempts!);
    }

    [Fact]
    public async Task AppendAsync_RecordWithAttempts_DeletesTheLeaseOfEveryAttempt()
    {
        var store = await CreateStoreAsync();
        await store.AddLeaseAsync(Lease("rsv_a1"), None);
        await store.AddLeaseAsync(Lease("rsv_a2"), None);
        await store.AddLeaseAsync(Lease("rsv_a3"), None);
        await store.AddLeaseAsync(Lease("rsv_other"), None);

        await store.AppendAsync([Full("r1") with { ReservationId = "rsv_a3", Attempts = Attempts() }], None);

        Assert.Equal(["rsv_other"], (await store.ReadLeasesAsync(None)).Select(l => l.Id));
    }

    /// <summary>A primary that failed unbilled, a fallback passed over before reserving, and the fallback that answered.</summary>
    private static List<UpstreamAttempt> Attempts() =>
    [
        new() { Upstream = "openai", Model = "gpt-big", Status = 503, Reason = "upstream_error", ReservationId = "rsv_a1" },
        new() { Upstream = "azure", Model = "gpt-big", Reason = "upstream_unavailable", ReservationId = "rsv_a2" },
        new() { Upstream = "backup", Model = "gpt-ünï-😀", Reason = "upstream_quota_exceeded" },
        new()
        {
            Upstream = "backup",
            Model = "gpt-small",
            Status = 200,
            Reason = "ok",
            Usage = new TokenUsage(int.MaxValue + 7L, 3, 9_876_543_210_987, 42) { ToolCalls = 2 },
            CostNanos = (1L << 62) - 1,
            ToolFeeNanos = 20_000_000,
            ReservationId = "rsv_a3",
        },
    ];
}
