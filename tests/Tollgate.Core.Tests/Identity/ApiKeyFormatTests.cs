using System.Buffers.Text;
using Tollgate.Identity;

namespace Tollgate.Core.Tests.Identity;

public sealed class ApiKeyFormatTests
{
    [Fact]
    public void NewSecret_HasPrefixAndEncodes256RandomBits()
    {
        string secret = ApiKeyFormat.NewSecret();

        Assert.StartsWith("tgk_", secret, StringComparison.Ordinal);
        Assert.Equal(ApiKeyFormat.SecretLength, secret.Length);
        Assert.Equal(47, secret.Length);
        Assert.Equal(32, Base64Url.DecodeFromChars(secret.AsSpan(4)).Length);
        Assert.True(ApiKeyFormat.LooksLikeSecret(secret));
    }

    [Fact]
    public void NewSecret_ManyCalls_NeverRepeat()
    {
        var secrets = Enumerable.Range(0, 10_000).Select(_ => ApiKeyFormat.NewSecret()).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(10_000, secrets.Count);
    }

    [Fact]
    public void NewId_HasPrefixAndTwentyLowerHexDigits()
    {
        string id = ApiKeyFormat.NewId();

        Assert.Matches("^key_[0-9a-f]{20}$", id);
        Assert.NotEqual(id, ApiKeyFormat.NewId());
    }

    [Theory]
    [InlineData("")]
    [InlineData("tgk_")]
    [InlineData("sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("tgk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("tgk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("tgk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa+")]
    [InlineData("tgk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=")]
    [InlineData("TGK_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void LooksLikeSecret_WrongShape_ReturnsFalse(string candidate)
    {
        Assert.False(ApiKeyFormat.LooksLikeSecret(candidate));
    }
}
