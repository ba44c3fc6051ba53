using Tollgate.Identity;
using static Tollgate.Stores.Contracts.TestKeys;

namespace Tollgate.Stores.Contracts;

/// <summary>Per-key overrides of plan settings: stored as given, replaced whole, none read back as null.</summary>
public abstract partial class ApiKeyStoreContractTests
{
    private static readonly Dictionary<string, string> _overrides = new(StringComparer.Ordinal)
    {
        ["RequestsPerMinute"] = "10",
        ["BudgetPerDay"] = "2.500000001",
        ["Odd \"name\" ✓"] = "line\nbreak, ünïcødé 😀 and \\ backslash",
    };

    [Fact]
    public async Task CreateAsync_WithOverrides_RoundTripsThroughGetListAndFind()
    {
        var store = await CreateStoreAsync();
        var key = Key("key_1") with { Overrides = _overrides };

        await store.CreateAsync(key, Hash(1), None);

        AssertKey(key, await store.GetAsync("key_1", None));
        AssertKey(key, Assert.Single(await store.ListAsync(null, None)));
        var match = await store.FindBySecretHashAsync(Hash(1), None);
        AssertKey(key, match!.Key);
        Assert.Null(match.SecretValidUntil);
    }

    [Fact]
    public async Task CreateManyAsync_WithOverrides_StoresEachKeysOwn()
    {
        var store = await CreateStoreAsync();
        var a = Key("key_a") with { Overrides = new Dictionary<string, string> { ["MaxN"] = "1" } };
        var b = Key("key_b");

        await store.CreateManyAsync([(a, Hash(1)), (b, Hash(2))], None);

        AssertKey(a, await store.GetAsync("key_a", None));
        Assert.Null((await store.GetAsync("key_b", None))!.Overrides);
    }

    [Fact]
    public async Task CreateAsync_EmptyOverrides_ReadsBackNull()
    {
        var store = await CreateStoreAsync();

        await store.CreateAsync(Key("key_1") with { Overrides = new Dictionary<string, string>() }, Hash(1), None);

        Assert.Null((await store.GetAsync("key_1", None))!.Overrides);
    }

    [Fact]
    public async Task CreateAsync_CallerChangesItsDictionaryAfterwards_StoredOverridesUnchanged()
    {
        var store = await CreateStoreAsync();
        var overrides = new Dictionary<string, string> { ["RequestsPerMinute"] = "10" };
        await store.CreateAsync(Key("key_1") with { Overrides = overrides }, Hash(1), None);

        overrides["RequestsPerMinute"] = "99";
        overrides["TokensPerDay"] = "5";

        AssertOverrides(new Dictionary<string, string> { ["RequestsPerMinute"] = "10" }, (await store.GetAsync("key_1", None))!.Overrides);
    }

    [Fact]
    public async Task UpdateOverridesAsync_KnownKey_SetsOverridesSeenByNextLookup()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1"), Hash(1), None);

        Assert.True(await store.UpdateOverridesAsync("key_1", _overrides, None));

        AssertOverrides(_overrides, (await store.FindBySecretHashAsync(Hash(1), None))!.Key.Overrides);
        AssertOverrides(_overrides, (await store.GetAsync("key_1", None))!.Overrides);
    }

    [Fact]
    public async Task UpdateOverridesAsync_Again_ReplacesTheWholeSet()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1") with { Overrides = _overrides }, Hash(1), None);
        var next = new Dictionary<string, string> { ["TokensPerDay"] = "1000", ["RequestsPerMinute"] = "3" };

        Assert.True(await store.UpdateOverridesAsync("key_1", next, None));

        AssertOverrides(next, (await store.FindBySecretHashAsync(Hash(1), None))!.Key.Overrides);
    }

    [Fact]
    public async Task UpdateOverridesAsync_Empty_ClearsThem()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1") with { Overrides = _overrides }, Hash(1), None);

        Assert.True(await store.UpdateOverridesAsync("key_1", new Dictionary<string, string>(), None));

        Assert.Null((await store.GetAsync("key_1", None))!.Overrides);
        Assert.Null((await store.FindBySecretHashAsync(Hash(1), None))!.Key.Overrides);
        Assert.Equal(Key("key_1"), await store.GetAsync("key_1", None));
    }

    [Fact]
    public async Task UpdateOverridesAsync_UnknownKey_ReturnsFalseAndCreatesNothing()
    {
        var store = await CreateStoreAsync();

        Assert.False(await store.UpdateOverridesAsync("key_missing", _overrides, None));

        Assert.Empty(await store.ListAsync(null, None));
    }

    [Fact]
    public async Task UpdateOverridesAsync_LeavesOtherFieldsAndOtherKeysAlone()
    {
        var store = await CreateStoreAsync();
        var key = Key("key_1", plan: "free") with { Name = "bot", ExpiresAt = T0.AddDays(3), RevokedAt = T0.AddDays(1) };
        var other = Key("key_2") with { Overrides = new Dictionary<string, string> { ["MaxN"] = "2" } };
        await store.CreateAsync(key, Hash(1), None);
        await store.CreateAsync(other, Hash(2), None);

        Assert.True(await store.UpdateOverridesAsync("key_1", _overrides, None));

        AssertKey(key with { Overrides = _overrides }, await store.GetAsync("key_1", None));
        AssertKey(other, await store.GetAsync("key_2", None));
    }

    [Fact]
    public async Task UpdatePlanAsync_KeyWithOverrides_KeepsThem()
    {
        var store = await CreateStoreAsync();
        await store.CreateAsync(Key("key_1") with { Overrides = _overrides }, Hash(1), None);

        Assert.True(await store.UpdatePlanAsync("key_1", "premium", None));
        Assert.True(await store.RotateAsync("key_1", Hash(2), T0, T0, None));

        var stored = (await store.FindBySecretHashAsync(Hash(2), None))!.Key;
        Assert.Equal("premium", stored.Plan);
        AssertOverrides(_overrides, stored.Overrides);
    }

    /// <summary>Records compare their dictionaries by reference; compare the overrides by content and the rest as records.</summary>
    private static void AssertKey(ApiKeyRecord expected, ApiKeyRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { Overrides = null }, actual with { Overrides = null });
        AssertOverrides(expected.Overrides, actual.Overrides);
    }

    private static void AssertOverrides(IReadOnlyDictionary<string, string>? expected, IReadOnlyDictionary<string, string>? actual)
    {
        if (expected is null || expected.Count == 0)
        {
            Assert.Null(actual);
            return;
        }

        Assert.NotNull(actual);
        Assert.Equal(
            expected.OrderBy(p => p.Key, StringComparer.Ordinal).ToList(),
            actual.OrderBy(p => p.Key, StringComparer.Ordinal).ToList());
    }
}
