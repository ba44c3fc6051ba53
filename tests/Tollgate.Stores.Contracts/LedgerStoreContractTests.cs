using Tollgate.Audit;
using Tollgate.Pricing;
using static Tollgate.Stores.Contracts.TestAuditRecords;

namespace Tollgate.Stores.Contracts;

/// <summary>
/// What every <see cref="ILedgerStore"/> must do. Each backend derives a test class that supplies a fresh, empty
/// store per test; <see cref="InMemoryLedgerStore"/> is the reference.
/// </summary>
public abstract partial class LedgerStoreContractTests
{
    private static CancellationToken None => CancellationToken.None;
    private static UsageQuery All => new();

    /// <summary>A fresh, empty store.</summary>
    protected abstract Task<ILedgerStore> CreateStoreAsync();

    [Fact]
    public async Task ReadAsync_AfterAppend_EveryFieldRoundTripsExactly()
    {
        var store = await CreateStoreAsync();
        AuditRecord[] records = [Full(), Minimal(at: T0.AddMilliseconds(1))];

        await store.AppendAsync(records, None);

        var read = await store.ReadAsync(All, 10, None);
        Assert.Equal(records, read);
        Assert.Equal((1L << 62) - 1, read[0].CostNanos);
        Assert.Equal(0.1 + 0.2, read[0].UpstreamLatencyMs);
        Assert.Null(read[1].UpstreamStatus);
        Assert.Null(read[1].Tenant);
        Assert.Equal(UsageSource.None, read[1].UsageSource);
    }

    [Fact]
    public async Task AppendAsync_EmptyBatch_WritesNothing()
    {
        var store = await CreateStoreAsync();

        await store.AppendAsync([], None);

        Assert.Empty(await store.ReadAsync(All, 10, None));
    }

    [Fact]
    public async Task ReadAsync_SeveralBatches_ReturnsAppendOrderNewestLast()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync([Minimal("r1", T0), Minimal("r2", T0.AddSeconds(1))], None);
        await store.AppendAsync([Minimal("r3", T0.AddSeconds(2))], None);

        var read = await store.ReadAsync(All, 10, None);

        Assert.Equal(["r1", "r2", "r3"], read.Select(r => r.RequestId));
    }

    [Fact]
    public async Task ReadAsync_Limit_KeepsTheNewest()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync([.. Enumerable.Range(1, 5).Select(i => Minimal($"r{i}", T0.AddSeconds(i)))], None);

        Assert.Equal(["r4", "r5"], (await store.ReadAsync(All, 2, None)).Select(r => r.RequestId));
        Assert.Empty(await store.ReadAsync(All, 0, None));
    }

    [Fact]
    public async Task ReadAsync_RequestIdFilter_ReturnsOnlyThatRequest()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync([Minimal("r1"), Full("r2"), Minimal("r3")], None);

        var read = await store.ReadAsync(new UsageQuery(RequestId: "r2"), 10, None);

        Assert.Equal([Full("r2")], read);
        Assert.Empty(await store.ReadAsync(new UsageQuery(RequestId: "R2"), 10, None));
    }

    [Fact]
    public async Task ReadAsync_TenantUserSinceFilters_Combine()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync(
        [
            Usage("acme", "alice", "m", 1, 0, 0, 0, 0, T0, "a1"),
            Usage("acme", "bob", "m", 1, 0, 0, 0, 0, T0.AddSeconds(1), "b1"),
            Usage("acme", "alice", "m", 1, 0, 0, 0, 0, T0.AddSeconds(2), "a2"),
            Usage("globex", "alice", "m", 1, 0, 0, 0, 0, T0.AddSeconds(3), "g1"),
            Usage(null, null, null, 1, 0, 0, 0, 0, T0.AddSeconds(4), "n1"),
        ], None);

        Assert.Equal(["a1", "b1", "a2"], (await store.ReadAsync(new UsageQuery(Tenant: "acme"), 10, None)).Select(r => r.RequestId));
        Assert.Equal(["a1", "a2", "g1"], (await store.ReadAsync(new UsageQuery(User: "alice"), 10, None)).Select(r => r.RequestId));
        Assert.Equal(["a2"], (await store.ReadAsync(new UsageQuery("acme", "alice", T0.AddSeconds(1)), 10, None)).Select(r => r.RequestId));
    }

    [Fact]
    public async Task ReadAsync_Since_IsInclusiveAndExact()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync([Minimal("r1", T0), Minimal("r2", T0.AddMilliseconds(1)), Minimal("r3", T0.AddMilliseconds(2))], None);

        Assert.Equal(["r2", "r3"], (await store.ReadAsync(new UsageQuery(Since: T0.AddMilliseconds(1)), 10, None)).Select(r => r.RequestId));
        // An instant between two milliseconds excludes the earlier one.
        Assert.Equal(["r3"], (await store.ReadAsync(new UsageQuery(Since: T0.AddMilliseconds(1).AddTicks(1)), 10, None)).Select(r => r.RequestId));
    }

    [Fact]
    public async Task QueryUsageAsync_GroupsAndSumsPerTenantUserModel_OrderedOrdinally()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync(
        [
            Usage("acme", "bob", "m1", 10, 1, 20, 2, 300),
            Usage("acme", "alice", "m2", 5, 0, 5, 0, 50),
            Usage("acme", "alice", "m1", 100, 40, 200, 50, 1000),
            Usage("acme", "alice", "m1", 1, 1, 2, 0, 7, source: UsageSource.Estimated),
            Usage("acme", "alice", "m1", 0, 0, 0, 0, 0, decision: Decisions.Refused, source: UsageSource.None),
            Usage("Zeta", "alice", "m1", 3, 0, 3, 0, 9),
            Usage(null, null, null, 0, 0, 0, 0, 0, decision: Decisions.Refused, source: UsageSource.None),
        ], None);

        var rows = await store.QueryUsageAsync(All, None);

        Assert.Equal(
        [
            new UsageSummary(null, null, null, 1, 1, 0, 0, 0, 0, 0, 0),
            new UsageSummary("Zeta", "alice", "m1", 1, 0, 3, 0, 3, 0, 9, 0),
            new UsageSummary("acme", "alice", "m1", 3, 1, 101, 41, 202, 50, 1007, 1),
            new UsageSummary("acme", "alice", "m2", 1, 0, 5, 0, 5, 0, 50, 0),
            new UsageSummary("acme", "bob", "m1", 1, 0, 10, 1, 20, 2, 300, 0),
        ], rows);
    }

    [Fact]
    public async Task QueryUsageAsync_LargeValues_SumExactly()
    {
        var store = await CreateStoreAsync();
        long big = 1L << 61;
        await store.AppendAsync(
        [
            Usage("acme", "alice", "m", big, big - 1, 3, 1, big + 12345),
            Usage("acme", "alice", "m", big - 1, 0, 4, 2, big - 12344),
        ], None);

        var row = Assert.Single(await store.QueryUsageAsync(All, None));

        Assert.Equal(new UsageSummary("acme", "alice", "m", 2, 0, (2 * big) - 1, big - 1, 7, 3, (2 * big) + 1, 0), row);
    }

    [Fact]
    public async Task QueryUsageAsync_SumsPastTheLargestInteger_SaturateInsteadOfFailing()
    {
        var store = await CreateStoreAsync();
        long huge = 9_000_000_000_000_000_000;
        await store.AppendAsync(
        [
            Usage("acme", "alice", "m", huge, huge, huge, huge, huge),
            Usage("acme", "alice", "m", huge, 0, huge, 0, huge),
            Usage("acme", "alice", "m", huge, 0, huge, 0, huge),
        ], None);

        var row = Assert.Single(await store.QueryUsageAsync(All, None));

        Assert.Equal(new UsageSummary("acme", "alice", "m", 3, 0, long.MaxValue, huge, long.MaxValue, huge, long.MaxValue, 0), row);
    }

    [Fact]
    public async Task QueryUsageAsync_Filters_ApplyBeforeGrouping()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync(
        [
            Usage("acme", "alice", "m", 1, 0, 1, 0, 10, T0),
            Usage("acme", "alice", "m", 2, 0, 2, 0, 20, T0.AddHours(1)),
            Usage("acme", "bob", "m", 4, 0, 4, 0, 40, T0.AddHours(1)),
            Usage("globex", "alice", "m", 8, 0, 8, 0, 80, T0.AddHours(1)),
        ], None);

        Assert.Equal(2, (await store.QueryUsageAsync(new UsageQuery(Tenant: "acme"), None)).Count);
        Assert.Equal([30L, 80L], (await store.QueryUsageAsync(new UsageQuery(User: "alice"), None)).Select(r => r.CostNanos));
        var since = Assert.Single(await store.QueryUsageAsync(new UsageQuery("acme", "alice", T0.AddMinutes(1)), None));
        Assert.Equal(new UsageSummary("acme", "alice", "m", 1, 0, 2, 0, 2, 0, 20, 0), since);
        Assert.Empty(await store.QueryUsageAsync(new UsageQuery(Since: T0.AddDays(1)), None));
    }

    [Fact]
    public async Task DeleteBeforeAsync_DeletesOnlyOlderRecords_ReturnsCount()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync([Minimal("r1", T0), Minimal("r2", T0.AddMilliseconds(1)), Minimal("r3", T0.AddMilliseconds(2)), Minimal("r4", T0.AddDays(1))], None);

        Assert.Equal(2, await store.DeleteBeforeAsync(T0.AddMilliseconds(2), None));

        Assert.Equal(["r3", "r4"], (await store.ReadAsync(All, 10, None)).Select(r => r.RequestId));
        Assert.Equal(0, await store.DeleteBeforeAsync(T0.AddMilliseconds(2), None));
        // An instant between two milliseconds deletes the earlier one.
        Assert.Equal(1, await store.DeleteBeforeAsync(T0.AddMilliseconds(2).AddTicks(1), None));
        Assert.Equal(["r4"], (await store.ReadAsync(All, 10, None)).Select(r => r.RequestId));
    }

    [Fact]
    public async Task AppendAsync_AfterDelete_KeepsAppendOrder()
    {
        var store = await CreateStoreAsync();
        await store.AppendAsync([Minimal("old", T0), Minimal("r1", T0.AddDays(2))], None);
        await store.DeleteBeforeAsync(T0.AddDays(1), None);

        await store.AppendAsync([Minimal("r2", T0.AddDays(1))], None);

        Assert.Equal(["r1", "r2"], (await store.ReadAsync(All, 10, None)).Select(r => r.RequestId));
    }
}
