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
}
