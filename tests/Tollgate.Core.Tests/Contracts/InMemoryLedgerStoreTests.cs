using Tollgate.Audit;
using Tollgate.Stores.Contracts;
using static Tollgate.Stores.Contracts.TestAuditRecords;

namespace Tollgate.Core.Tests.Contracts;

public sealed class InMemoryLedgerStoreTests : LedgerStoreContractTests
{
    protected override Task<ILedgerStore> CreateStoreAsync() => Task.FromResult<ILedgerStore>(new InMemoryLedgerStore());

    [Fact]
    public async Task AppendAsync_Failing_WritesNoRecordAndKeepsTheLease()
    {
        var store = new InMemoryLedgerStore();
        await store.AddLeaseAsync(Lease("rsv_1"), CancellationToken.None);
        store.FailWith = new IOException("disk full");

        await Assert.ThrowsAsync<IOException>(() => store.AppendAsync([Full() with { ReservationId = "rsv_1" }], CancellationToken.None));
        await Assert.ThrowsAsync<IOException>(() => store.AddLeaseAsync(Lease("rsv_2"), CancellationToken.None));

        store.FailWith = null;
        Assert.Empty(await store.ReadAsync(new UsageQuery(), 10, CancellationToken.None));
        Assert.Equal([Lease("rsv_1")], await store.ReadLeasesAsync(CancellationToken.None));
    }
}
