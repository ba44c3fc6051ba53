using Tollgate.Caching;
using Tollgate.Configuration;
using Tollgate.Stores.Contracts;

namespace Tollgate.Core.Tests.Contracts;

public sealed class InMemoryResponseCacheTests : ResponseCacheContractTests
{
    private static CancellationToken None => CancellationToken.None;

    protected override IResponseCache CreateCache(CacheOptions options) => new InMemoryResponseCache(() => options);

    [Fact]
    public async Task Set_PastMaxEntries_EvictsTheLeastRecentlyUsed()
    {
        var cache = new InMemoryResponseCache(() => new CacheOptions { MaxEntries = 2 });
        await cache.SetAsync(Key(1), Answer("a"), T0.AddHours(1), T0, None);
        await cache.SetAsync(Key(2), Answer("b"), T0.AddHours(1), T0, None);
        Assert.NotNull(await cache.GetAsync(Key(1), T0, None));

        await cache.SetAsync(Key(3), Answer("c"), T0.AddHours(1), T0, None);

        Assert.NotNull(await cache.GetAsync(Key(1), T0, None));
        Assert.Null(await cache.GetAsync(Key(2), T0, None));
        Assert.NotNull(await cache.GetAsync(Key(3), T0, None));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public async Task Set_PastMaxBytes_EvictsUntilTheBytesFit()
    {
        var entry = Answer(new string('x', 1000));
        long each = entry.Size + InMemoryResponseCache.EntryOverhead;
        var cache = new InMemoryResponseCache(() => new CacheOptions { MaxBytes = each * 3, MaxEntryBytes = 2048 });

        for (int i = 0; i < 5; i++)
        {
            await cache.SetAsync(Key(i), entry, T0.AddHours(1), T0, None);
        }

        Assert.Equal((3, each * 3), (cache.Count, cache.Bytes));
        Assert.Null(await cache.GetAsync(Key(1), T0, None));
        Assert.NotNull(await cache.GetAsync(Key(2), T0, None));
        Assert.NotNull(await cache.GetAsync(Key(4), T0, None));
    }

    [Fact]
    public async Task Set_LargerThanMaxBytes_IsDeclinedAndKeepsTheOthers()
    {
        var cache = new InMemoryResponseCache(() => new CacheOptions { MaxBytes = 2048, MaxEntryBytes = 1024 });
        await cache.SetAsync(Key(1), Answer("small"), T0.AddHours(1), T0, None);

        await cache.SetAsync(Key(2), Answer(new string('x', 4096)), T0.AddHours(1), T0, None);

        Assert.Null(await cache.GetAsync(Key(2), T0, None));
        Assert.NotNull(await cache.GetAsync(Key(1), T0, None));
    }

    [Fact]
    public async Task Bounds_AreReadAtEveryWrite_SoAReloadAppliesToTheNext()
    {
        var options = new CacheOptions { MaxEntries = 10 };
        var cache = new InMemoryResponseCache(() => options);
        for (int i = 0; i < 10; i++)
        {
            await cache.SetAsync(Key(i), Answer("a"), T0.AddHours(1), T0, None);
        }

        options = new CacheOptions { MaxEntries = 3 };
        await cache.SetAsync(Key(10), Answer("b"), T0.AddHours(1), T0, None);

        Assert.Equal(3, cache.Count);
        Assert.NotNull(await cache.GetAsync(Key(10), T0, None));
    }

    [Fact]
    public async Task ExpiredEntry_IsRemovedWhenLookedUp()
    {
        var cache = new InMemoryResponseCache();
        await cache.SetAsync(Key(1), Answer("a"), T0.AddMinutes(1), T0, None);

        Assert.Null(await cache.GetAsync(Key(1), T0.AddMinutes(2), None));

        Assert.Equal((0, 0L), (cache.Count, cache.Bytes));
    }
}
