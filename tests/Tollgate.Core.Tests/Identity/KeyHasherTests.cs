using Tollgate.Identity;

namespace Tollgate.Core.Tests.Identity;

public sealed class KeyHasherTests
{
    private static readonly byte[] _hashingKeyA = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private static readonly byte[] _hashingKeyB = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    [Fact]
    public void Hash_SameSecretAndHashingKey_IsStableLowerHex()
    {
        string secret = ApiKeyFormat.NewSecret();

        string hash = new KeyHasher(_hashingKeyA).Hash(secret);

        Assert.Equal(hash, new KeyHasher(_hashingKeyA).Hash(secret));
        Assert.Matches("^[0-9a-f]{64}$", hash);
    }

    [Fact]
    public void Hash_DifferentHashingKeys_Differ()
    {
        string secret = ApiKeyFormat.NewSecret();

        Assert.NotEqual(new KeyHasher(_hashingKeyA).Hash(secret), new KeyHasher(_hashingKeyB).Hash(secret));
    }

    [Fact]
    public void Hash_DifferentSecrets_Differ()
    {
        var hasher = new KeyHasher(_hashingKeyA);

        Assert.NotEqual(hasher.Hash(ApiKeyFormat.NewSecret()), hasher.Hash(ApiKeyFormat.NewSecret()));
    }

    [Fact]
    public void Constructor_HashingKeyShorterThan32Bytes_Throws()
    {
        Assert.Throws<ArgumentException>(() => new KeyHasher(new byte[31]));
    }
}
