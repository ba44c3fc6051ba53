using Tollgate.Responses;
using Xunit;

namespace Tollgate.Stores.Contracts;

/// <summary>The contract of every <see cref="IResponseOwnerStore"/>: who created a stored response, and what it billed.</summary>
public abstract class ResponseOwnerStoreContractTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A new, empty store.</summary>
    protected abstract Task<IResponseOwnerStore> CreateStoreAsync();

    [Fact]
    public async Task Record_ThenFind_ReturnsWhatWasRecorded()
    {
        var store = await CreateStoreAsync();
        var response = new StoredResponse("resp_1", "key_a", "sim-mini", 120, 30, s_now);

        await store.RecordAsync(response, CancellationToken.None);

        Assert.Equal(response, await store.FindAsync("resp_1", CancellationToken.None));
        Assert.Equal(150, response.ChainTokens);
    }

    [Fact]
    public async Task Find_Unknown_IsNull()
    {
        var store = await CreateStoreAsync();

        Assert.Null(await store.FindAsync("resp_unknown", CancellationToken.None));
    }

    [Fact]
    public async Task Record_SameIdAgain_KeepsTheFirstOwner()
    {
        var store = await CreateStoreAsync();
        await store.RecordAsync(new StoredResponse("resp_1", "key_a", "sim-mini", 1, 2, s_now), CancellationToken.None);

        await store.RecordAsync(new StoredResponse("resp_1", "key_b", "sim-large", 3, 4, s_now), CancellationToken.None);

        Assert.Equal("key_a", (await store.FindAsync("resp_1", CancellationToken.None))!.KeyId);
    }
}
