using Tollgate.Limits;
using Tollgate.Stores.Contracts;

namespace Tollgate.Core.Tests.Limits;

public sealed class InMemoryQuotaStoreTests : QuotaStoreContractTests
{
    protected override IQuotaStore CreateStore() => new InMemoryQuotaStore();

    [Fact]
    public async Task RestoreAsync_CountsEveryEntryInItsOwnSlot()
    {
        var store = new InMemoryQuotaStore();
        var check = new LimitCheck(ScopeOf("acme"), Metric.Tokens, Window.Hour, 1_000, 0, 0);
        PastUsage[] history =
        [
            new([check], new ActualUsage(300, 200, 0), T0.AddMinutes(-59.5)),
            new([check], new ActualUsage(100, 0, 0), T0.AddHours(-2)),
        ];

        long counted = await store.RestoreAsync(history.ToAsyncEnumerable(), T0, CancellationToken.None);

        Assert.Equal(2, counted);
        Assert.Equal(500, await store.UsedAsync(check, T0, CancellationToken.None));
        Assert.Equal(0, await store.UsedAsync(check, T0.AddMinutes(1), CancellationToken.None));
    }

    [Fact]
    public async Task SettleAsync_ItsCounterPurgedWhileHeld_UsageStillCounted()
    {
        // A reservation that holds nothing on a limit (amount 0) leaves that counter idle, so a purge (every 8,192
        // reservations) may drop it while the request runs; settling must then count the usage in the live counter.
        var store = new InMemoryQuotaStore();
        var idle = new LimitCheck(ScopeOf("idle"), Metric.Tokens, Window.Minute, 1_000, 0, 0);
        var first = await store.TryReserveAsync([idle], 0, 0, T0, CancellationToken.None);
        Assert.True(first.Admitted);

        var busy = new LimitCheck(ScopeOf("busy"), Metric.Requests, Window.Minute, 1_000_000, 1, 0);
        for (int i = 0; i < 8_192; i++)
        {
            var other = await store.TryReserveAsync([busy], 0, 0, T0, CancellationToken.None);
            await store.ReleaseAsync(other.Reservation!, CancellationToken.None);
        }

        await store.SettleAsync(first.Reservation!, new ActualUsage(300, 200, 0), T0, CancellationToken.None);

        Assert.Equal(500, await store.UsedAsync(idle, T0, CancellationToken.None));
    }

    [Fact]
    public async Task TryReserveAsync_LeaseIdsSortByTheTimeOfAdmission()
    {
        // The ledger keeps settled lease ids in an index: ids that sort by time make it grow at its end.
        var store = new InMemoryQuotaStore();
        var check = new LimitCheck(ScopeOf("acme"), Metric.Requests, Window.Minute, 1_000, 1, 0);
        var ids = new List<string>();
        for (int i = 0; i < 50; i++)
        {
            var decision = await store.TryReserveAsync([check], 0, 0, T0.AddMilliseconds(i), CancellationToken.None);
            ids.Add(decision.Reservation!.Id);
        }

        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Matches("^res_[0-9a-f]{28}$", ids[0]);
    }
}
