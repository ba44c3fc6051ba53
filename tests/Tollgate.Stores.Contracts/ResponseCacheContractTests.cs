using System.Text;
using Tollgate.Caching;
using Tollgate.Configuration;
using Tollgate.Pricing;

namespace Tollgate.Stores.Contracts;

/// <summary>
/// What every <see cref="IResponseCache"/> must do: return exactly what was stored (bytes and usage) until it expires,
/// keep keys apart, replace on a second write, and never serve an expired entry. A Redis backend derives a class from
/// this one. Bounds are generous here: eviction policy is each backend's own (the in-memory store's is tested beside
/// it).
/// </summary>
public abstract class ResponseCacheContractTests
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static CancellationToken None => CancellationToken.None;

    /// <summary>A fresh, empty store with (at least) the given bounds.</summary>
    protected abstract IResponseCache CreateCache(CacheOptions options);

    protected static ResponseCacheKey Key(int n) => new(0x1234, (UInt128)n);

    protected static CachedAnswer Answer(string text, long input = 12, long output = 5) =>
        new(Encoding.UTF8.GetBytes("{\"choices\":[{\"message\":{\"content\":\"" + text + "\"}}]}"), new TokenUsage(input, 2, output, 1));

    private IResponseCache Create() => CreateCache(new CacheOptions());

    [Fact]
    public async Task Get_NothingStored_IsAMiss()
    {
        Assert.Null(await Create().GetAsync(Key(1), T0, None));
    }

    [Fact]
    public async Task Set_ThenGet_ReturnsTheSameBytesAndUsage()
    {
        var cache = Create();
        var stored = Answer("Tides follow the moon. 潮汐 🌊");

        await cache.SetAsync(Key(1), stored, T0.AddMinutes(10), T0, None);
        var found = await cache.GetAsync(Key(1), T0.AddMinutes(1), None);

        Assert.NotNull(found);
        Assert.Equal(stored.Body.ToArray(), found.Body.ToArray());
        Assert.Equal(stored.Usage, found.Usage);
        Assert.Equal(stored.Size, found.Size);
    }

    [Fact]
    public async Task Keys_AreKeptApart_EvenWhenTheyShareHalfTheirBits()
    {
        var cache = Create();
        await cache.SetAsync(new ResponseCacheKey(1, 2), Answer("a"), T0.AddMinutes(10), T0, None);
        await cache.SetAsync(new ResponseCacheKey(2, 1), Answer("b"), T0.AddMinutes(10), T0, None);

        Assert.Equal(Answer("a").Body.ToArray(), (await cache.GetAsync(new ResponseCacheKey(1, 2), T0, None))!.Body.ToArray());
        Assert.Equal(Answer("b").Body.ToArray(), (await cache.GetAsync(new ResponseCacheKey(2, 1), T0, None))!.Body.ToArray());
        Assert.Null(await cache.GetAsync(new ResponseCacheKey(1, 1), T0, None));
        Assert.Null(await cache.GetAsync(new ResponseCacheKey(2, 2), T0, None));
    }

    [Fact]
    public async Task Set_SameKeyTwice_TheSecondReplacesTheFirst()
    {
        var cache = Create();
        await cache.SetAsync(Key(1), Answer("old", output: 5), T0.AddMinutes(10), T0, None);

        await cache.SetAsync(Key(1), Answer("new", output: 6), T0.AddMinutes(20), T0.AddMinutes(1), None);

        var found = await cache.GetAsync(Key(1), T0.AddMinutes(15), None);
        Assert.Equal(Answer("new").Body.ToArray(), found!.Body.ToArray());
        Assert.Equal(6, found.Usage.OutputTokens);
    }

    [Fact]
    public async Task Get_AtOrAfterExpiry_IsAMiss()
    {
        var cache = Create();
        await cache.SetAsync(Key(1), Answer("a"), T0.AddSeconds(60), T0, None);

        Assert.NotNull(await cache.GetAsync(Key(1), T0.AddSeconds(59.999), None));
        Assert.Null(await cache.GetAsync(Key(1), T0.AddSeconds(60), None));
        Assert.Null(await cache.GetAsync(Key(1), T0.AddSeconds(59), None));
    }

    [Fact]
    public async Task Set_AlreadyExpired_StoresNothing()
    {
        var cache = Create();

        await cache.SetAsync(Key(1), Answer("a"), T0, T0, None);

        Assert.Null(await cache.GetAsync(Key(1), T0.AddSeconds(-1), None));
    }

    [Fact]
    public async Task ConcurrentReadersAndWriters_SeeWholeEntriesOnly()
    {
        var cache = Create();
        var answers = Enumerable.Range(0, 16).Select(i => Answer(new string((char)('a' + i), 100 + i), output: i)).ToArray();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                int n = (worker + i) % answers.Length;
                await cache.SetAsync(Key(i % 4), answers[n], T0.AddMinutes(10), T0, None);
                if (await cache.GetAsync(Key((i + 1) % 4), T0, None) is { } found)
                {
                    var expected = answers[(int)found.Usage.OutputTokens];
                    Assert.Equal(expected.Body.ToArray(), found.Body.ToArray());
                }
            }
        })));
    }
}
