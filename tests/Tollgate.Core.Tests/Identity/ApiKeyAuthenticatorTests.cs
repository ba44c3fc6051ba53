using Microsoft.Extensions.Time.Testing;
using Tollgate.Identity;

namespace Tollgate.Core.Tests.Identity;

public sealed class ApiKeyAuthenticatorTests
{
    private static CancellationToken None => CancellationToken.None;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly InMemoryApiKeyStore _store = new();
    private readonly KeyHasher _hasher = new([.. Enumerable.Range(0, 32).Select(i => (byte)(i * 7))]);
    private readonly ApiKeyAuthenticator _authenticator;

    public ApiKeyAuthenticatorTests() => _authenticator = new ApiKeyAuthenticator(_store, _hasher, _time);

    [Fact]
    public async Task AuthenticateAsync_BearerKey_ReturnsTheKeysIdentity()
    {
        string secret = await CreateKeyAsync("key_1");

        var result = await _authenticator.AuthenticateAsync($"Bearer {secret}", null, None);

        Assert.True(result.Succeeded);
        Assert.Equal(new CallerIdentity("key_1", "acme", "alice", "basic"), result.Identity);
        Assert.Equal("key_1", result.KeyId);
    }

    [Fact]
    public async Task AuthenticateAsync_KeyWithOverrides_IdentityCarriesTheLatest()
    {
        string secret = await CreateKeyAsync("key_1");
        Assert.Null((await _authenticator.AuthenticateAsync($"Bearer {secret}", null, None)).Identity!.Overrides);

        await _store.UpdateOverridesAsync("key_1", new Dictionary<string, string> { ["RequestsPerMinute"] = "10" }, None);

        var identity = (await _authenticator.AuthenticateAsync($"Bearer {secret}", null, None)).Identity!;
        Assert.Equal("10", Assert.Single(identity.Overrides!).Value);
    }

    [Fact]
    public async Task AuthenticateAsync_LowercaseBearerScheme_Succeeds()
    {
        string secret = await CreateKeyAsync("key_1");

        Assert.True((await _authenticator.AuthenticateAsync($"bearer {secret}", null, None)).Succeeded);
    }

    [Fact]
    public async Task AuthenticateAsync_XApiKey_Succeeds()
    {
        string secret = await CreateKeyAsync("key_1");

        var result = await _authenticator.AuthenticateAsync(null, secret, None);

        Assert.Equal("key_1", result.Identity?.KeyId);
    }

    [Fact]
    public async Task AuthenticateAsync_BothHeadersSameKey_Succeeds()
    {
        string secret = await CreateKeyAsync("key_1");

        Assert.True((await _authenticator.AuthenticateAsync($"Bearer {secret}", secret, None)).Succeeded);
    }

    [Fact]
    public async Task AuthenticateAsync_BothHeadersDifferentKeys_FailsWithConflict()
    {
        string first = await CreateKeyAsync("key_1");
        string second = await CreateKeyAsync("key_2");

        var result = await _authenticator.AuthenticateAsync($"Bearer {first}", second, None);

        AssertFailure(result, AuthenticationFailures.Conflicting, keyId: null);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData("Bearer ", null)]
    public async Task AuthenticateAsync_NoKey_FailsWithMissing(string? authorization, string? xApiKey)
    {
        AssertFailure(await _authenticator.AuthenticateAsync(authorization, xApiKey, None), AuthenticationFailures.Missing, keyId: null);
    }

    [Theory]
    [InlineData("Bearer not-a-key", null)]
    [InlineData("Basic dXNlcjpwYXNz", null)]
    [InlineData(null, "sk-0123456789abcdef")]
    public async Task AuthenticateAsync_MalformedKey_FailsWithUnknown(string? authorization, string? xApiKey)
    {
        AssertFailure(await _authenticator.AuthenticateAsync(authorization, xApiKey, None), AuthenticationFailures.Unknown, keyId: null);
    }

    [Fact]
    public async Task AuthenticateAsync_WellFormedUnknownKey_FailsWithUnknown()
    {
        await CreateKeyAsync("key_1");

        var result = await _authenticator.AuthenticateAsync($"Bearer {ApiKeyFormat.NewSecret()}", null, None);

        AssertFailure(result, AuthenticationFailures.Unknown, keyId: null);
    }

    [Fact]
    public async Task AuthenticateAsync_RevokedKey_FailsWithRevokedAndNamesTheKey()
    {
        string secret = await CreateKeyAsync("key_1");
        await _store.RevokeAsync("key_1", _time.GetUtcNow(), None);

        AssertFailure(await _authenticator.AuthenticateAsync(null, secret, None), AuthenticationFailures.Revoked, "key_1");
    }

    [Fact]
    public async Task AuthenticateAsync_KeyPastItsExpiry_FailsWithExpired()
    {
        string secret = await CreateKeyAsync("key_1", expiresAt: _time.GetUtcNow().AddHours(1));
        _time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromTicks(1));
        Assert.True((await _authenticator.AuthenticateAsync(null, secret, None)).Succeeded);

        _time.Advance(TimeSpan.FromTicks(1));

        AssertFailure(await _authenticator.AuthenticateAsync(null, secret, None), AuthenticationFailures.Expired, "key_1");
    }

    [Fact]
    public async Task AuthenticateAsync_RotatedKey_OldSecretWorksDuringGraceThenExpires()
    {
        string old = await CreateKeyAsync("key_1");
        string fresh = ApiKeyFormat.NewSecret();
        var now = _time.GetUtcNow();
        Assert.True(await _store.RotateAsync("key_1", _hasher.Hash(fresh), now, now.AddMinutes(10), None));

        _time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.True((await _authenticator.AuthenticateAsync(null, old, None)).Succeeded);
        Assert.True((await _authenticator.AuthenticateAsync(null, fresh, None)).Succeeded);

        _time.Advance(TimeSpan.FromTicks(1));
        AssertFailure(await _authenticator.AuthenticateAsync(null, old, None), AuthenticationFailures.Expired, "key_1");
        Assert.True((await _authenticator.AuthenticateAsync(null, fresh, None)).Succeeded);
    }

    private async Task<string> CreateKeyAsync(string id, DateTimeOffset? expiresAt = null)
    {
        string secret = ApiKeyFormat.NewSecret();
        var record = new ApiKeyRecord
        {
            Id = id,
            Tenant = "acme",
            User = "alice",
            Plan = "basic",
            CreatedAt = _time.GetUtcNow(),
            ExpiresAt = expiresAt,
        };
        await _store.CreateAsync(record, _hasher.Hash(secret), None);
        return secret;
    }

    private static void AssertFailure(AuthenticationResult result, string reason, string? keyId)
    {
        Assert.False(result.Succeeded);
        Assert.Null(result.Identity);
        Assert.Equal(reason, result.FailureReason);
        Assert.False(string.IsNullOrEmpty(result.FailureMessage));
        Assert.Equal(keyId, result.KeyId);
    }
}
