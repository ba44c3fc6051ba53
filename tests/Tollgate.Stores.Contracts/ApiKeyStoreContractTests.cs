using Tollgate.Identity;
using static Tollgate.Stores.Contracts.TestKeys;

namespace Tollgate.Stores.Contracts;

/// <summary>
/// What every <see cref="IApiKeyStore"/> must do. Each backend derives a test class that supplies a fresh, empty
/// store per test; <see cref="InMemoryApiKeyStore"/> is the reference.
/// </summary>
public abstract partial class ApiKeyStoreContractTests
{
    private static CancellationToken None => CancellationToken.None;

    /// <summary>A fresh, empty store.</summary>
    protected abstract Task<IApiKeyStore> CreateStoreAsync();

    [Fact]
    public async Task GetAsync_AfterCreateWithEveryField_ReturnsEqualRecord()
    {
        var store = await CreateStoreAsync();
        var key = Key("key_1") with
        {
            Name = "ci bot ✓",
            ExpiresAt = T0.AddDays(30),
            RevokedAt = T0.AddDays(1),
            RotatedAt = T0.AddHours(2),
        };

        await store.CreateAsync(key, Hash(1), None);

        Assert.Equal(key, await store.GetAsync("key_1", None));
    }

    [Fact]
    public async Task GetAsync_AfterCreateWithOptionalsUnset_ReturnsNulls()
    {
        var store = await CreateStoreAsync();
        var key = Key("key_1");

        await store.CreateAsync(key, Hash(1), None);

        var stored = await store.GetAsync("key_1", None);
        Assert.Equal(key, stored);
        Assert.Null(stored!.Name);
        Assert.Null(stored.ExpiresAt);
        Assert.Null(stored.RevokedAt);
        Assert.Null(stored.RotatedAt);
    }

    [Fact]
    public async Task GetAsync_UnknownId_ReturnsNull()
    {
        var store = await CreateStoreAsync();

        Assert.Null(await store.GetAsync("key_missing", None));
    }

    [Fact]
    public async Task CreateAsync_DuplicateId_ThrowsAndKeepsOriginal()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1", plan: "basic"), Hash(1), None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CreateAsync(Key("key_1", plan: "premium"), Hash(2), None));

        Assert.Equal("basic", (await store.GetAsync("key_1", None))!.Plan);
        Assert.Null(await store.FindBySecretHashAsync(Hash(2), None));
    }

    [Fact]
    public async Task CreateAsync_DuplicateSecretHash_ThrowsAndStoresNothing()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1"), Hash(1), None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CreateAsync(Key("key_2"), Hash(1), None));

        Assert.Null(await store.GetAsync("key_2", None));
        Assert.Equal("key_1", (await store.FindBySecretHashAsync(Hash(1), None))!.Key.Id);
    }

    [Fact]
    public async Task CreateManyAsync_ValidBatch_StoresEveryKey()
    {
        var store = await CreateStoreAsync();
        var keys = Enumerable.Range(0, 50).Select(i => (Key($"key_{i:D3}", createdAt: T0.AddSeconds(i)), Hash(i))).ToList();

        await store.CreateManyAsync(keys, None);

        Assert.Equal(keys.Select(k => k.Item1), await store.ListAsync(null, None));
        Assert.Equal("key_049", (await store.FindBySecretHashAsync(Hash(49), None))!.Key.Id);
    }

    [Fact]
    public async Task CreateManyAsync_OneKeyAlreadyStored_StoresNoneOfTheBatch()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_b"), Hash(2), None);

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            store.CreateManyAsync([(Key("key_a"), Hash(1)), (Key("key_b"), Hash(3)), (Key("key_c"), Hash(4))], None));

        Assert.Equal(["key_b"], (await store.ListAsync(null, None)).Select(k => k.Id));
        Assert.Null(await store.FindBySecretHashAsync(Hash(1), None));
    }

    [Fact]
    public async Task CreateManyAsync_DuplicateWithinBatch_StoresNoneOfTheBatch()
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            store.CreateManyAsync([(Key("key_a"), Hash(1)), (Key("key_b"), Hash(2)), (Key("key_a"), Hash(3))], None));

        Assert.Empty(await store.ListAsync(null, None));
        Assert.Null(await store.FindBySecretHashAsync(Hash(1), None));
    }

    [Fact]
    public async Task ListAsync_NoTenant_ReturnsAllByCreationThenId()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_c", tenant: "t2", createdAt: T0.AddMinutes(1)), Hash(1), None);
        await store.CreateAsync(Key("key_b", tenant: "t1", createdAt: T0), Hash(2), None);
        await store.CreateAsync(Key("key_a", tenant: "t2", createdAt: T0), Hash(3), None);

        var all = await store.ListAsync(null, None);

        Assert.Equal(["key_a", "key_b", "key_c"], all.Select(k => k.Id));
    }

    [Fact]
    public async Task ListAsync_Tenant_ReturnsOnlyThatTenant()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1", tenant: "acme"), Hash(1), None);
        await store.CreateAsync(Key("key_2", tenant: "globex"), Hash(2), None);
        await store.CreateAsync(Key("key_3", tenant: "acme", createdAt: T0.AddMilliseconds(1)), Hash(3), None);

        Assert.Equal(["key_1", "key_3"], (await store.ListAsync("acme", None)).Select(k => k.Id));
        Assert.Equal(["key_2"], (await store.ListAsync("globex", None)).Select(k => k.Id));
        Assert.Empty(await store.ListAsync("ACME", None));
    }

    [Fact]
    public async Task FindBySecretHashAsync_KnownHash_ReturnsKeyWithoutSecretExpiry()
    {
        var store = await CreateStoreAsync();
        var key = Key("key_1") with { ExpiresAt = T0.AddDays(1) };
        await store.CreateAsync(key, Hash(1), None);
        await store.CreateAsync(Key("key_2"), Hash(2), None);

        var match = await store.FindBySecretHashAsync(Hash(1), None);

        Assert.Equal(new ApiKeyMatch(key, null), match);
    }

    [Fact]
    public async Task FindBySecretHashAsync_UnknownHash_ReturnsNull()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1"), Hash(1), None);

        Assert.Null(await store.FindBySecretHashAsync(Hash(9), None));
        Assert.Null(await store.FindBySecretHashAsync(Hash(1).ToUpperInvariant() + "0", None));
    }

    [Fact]
    public async Task RevokeAsync_KnownKey_SetsRevokedAtSeenByNextLookup()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1"), Hash(1), None);

        Assert.True(await store.RevokeAsync("key_1", T0.AddHours(1), None));

        Assert.Equal(T0.AddHours(1), (await store.FindBySecretHashAsync(Hash(1), None))!.Key.RevokedAt);
        Assert.Equal(T0.AddHours(1), (await store.GetAsync("key_1", None))!.RevokedAt);
    }

    [Fact]
    public async Task RevokeAsync_Twice_ReturnsTrueAndKeepsFirstInstant()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1"), Hash(1), None);
        await store.RevokeAsync("key_1", T0.AddHours(1), None);

        Assert.True(await store.RevokeAsync("key_1", T0.AddHours(2), None));

        Assert.Equal(T0.AddHours(1), (await store.GetAsync("key_1", None))!.RevokedAt);
    }

    [Fact]
    public async Task RevokeAsync_UnknownKey_ReturnsFalse()
    {
        var store = await CreateStoreAsync();

        Assert.False(await store.RevokeAsync("key_missing", T0, None));
    }

    [Fact]
    public async Task RotateAsync_WithGrace_OldSecretGetsValidUntilAndNewSecretNone()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1"), Hash(1), None);
        var at = T0.AddDays(1);

        Assert.True(await store.RotateAsync("key_1", Hash(2), at, at.AddMinutes(10), None));

        var old = await store.FindBySecretHashAsync(Hash(1), None);
        var fresh = await store.FindBySecretHashAsync(Hash(2), None);
        Assert.Equal(at.AddMinutes(10), old!.SecretValidUntil);
        Assert.Null(fresh!.SecretValidUntil);
        Assert.Equal("key_1", fresh.Key.Id);
        Assert.Equal(at, fresh.Key.RotatedAt);
        Assert.Equal(at, (await store.GetAsync("key_1", None))!.RotatedAt);
    }

    [Fact]
    public async Task RotateAsync_Twice_OldestSecretKeepsEarlierValidUntil()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1"), Hash(1), None);
        await store.RotateAsync("key_1", Hash(2), T0, T0.AddMinutes(10), None);

        Assert.True(await store.RotateAsync("key_1", Hash(3), T0.AddMinutes(1), T0.AddMinutes(30), None));

        Assert.Equal(T0.AddMinutes(10), (await store.FindBySecretHashAsync(Hash(1), None))!.SecretValidUntil);
        Assert.Equal(T0.AddMinutes(30), (await store.FindBySecretHashAsync(Hash(2), None))!.SecretValidUntil);
        Assert.Null((await store.FindBySecretHashAsync(Hash(3), None))!.SecretValidUntil);
        Assert.Equal(T0.AddMinutes(1), (await store.GetAsync("key_1", None))!.RotatedAt);
    }

    [Fact]
    public async Task RotateAsync_RevokedKey_ReturnsFalseAndAddsNoSecret()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1"), Hash(1), None);
        await store.RevokeAsync("key_1", T0, None);

        Assert.False(await store.RotateAsync("key_1", Hash(2), T0, T0, None));

        Assert.Null(await store.FindBySecretHashAsync(Hash(2), None));
        Assert.Null((await store.FindBySecretHashAsync(Hash(1), None))!.SecretValidUntil);
        Assert.Null((await store.GetAsync("key_1", None))!.RotatedAt);
    }

    [Fact]
    public async Task RotateAsync_UnknownKey_ReturnsFalse()
    {
        var store = await CreateStoreAsync();

        Assert.False(await store.RotateAsync("key_missing", Hash(2), T0, T0, None));
        Assert.Null(await store.FindBySecretHashAsync(Hash(2), None));
    }

    [Fact]
    public async Task RotateAsync_NewHashAlreadyStored_ThrowsAndChangesNothing()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1"), Hash(1), None);
        await store.CreateAsync(Key("key_2"), Hash(2), None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.RotateAsync("key_1", Hash(2), T0, T0, None));

        Assert.Null((await store.FindBySecretHashAsync(Hash(1), None))!.SecretValidUntil);
        Assert.Equal("key_2", (await store.FindBySecretHashAsync(Hash(2), None))!.Key.Id);
        Assert.Null((await store.GetAsync("key_1", None))!.RotatedAt);
    }

    [Fact]
    public async Task UpdatePlanAsync_KnownKey_ChangesPlanSeenByNextLookup()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1", plan: "free"), Hash(1), None);

        Assert.True(await store.UpdatePlanAsync("key_1", "premium", None));

        Assert.Equal("premium", (await store.FindBySecretHashAsync(Hash(1), None))!.Key.Plan);
        Assert.Equal("premium", (await store.GetAsync("key_1", None))!.Plan);
    }

    [Fact]
    public async Task UpdatePlanAsync_UnknownKey_ReturnsFalse()
    {
        var store = await CreateStoreAsync();

        Assert.False(await store.UpdatePlanAsync("key_missing", "premium", None));
    }
}
