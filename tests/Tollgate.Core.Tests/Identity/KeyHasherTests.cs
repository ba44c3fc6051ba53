using System.Security.Cryptography;
using System.Text;
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
    public void Hash_RepeatedAndInterleavedHashersOnOneThread_EachIsTheOneShotHmacOfItsKey()
    {
        // Each thread reuses one HMAC: repeated calls must not carry state over, and a second hasher's key must not
        // leak into the first's results.
        var a = new KeyHasher(_hashingKeyA);
        var b = new KeyHasher(_hashingKeyB);
        string[] secrets = [ApiKeyFormat.NewSecret(), ApiKeyFormat.NewSecret(), ApiKeyFormat.NewSecret()];

        foreach (string secret in secrets.Concat(secrets))
        {
            Assert.Equal(OneShot(_hashingKeyA, secret), a.Hash(secret));
            Assert.Equal(OneShot(_hashingKeyB, secret), b.Hash(secret));
            Assert.Equal(OneShot(_hashingKeyA, secret), a.Hash(secret));
        }
    }

    [Fact]
    public async Task Hash_ManyThreadsAtOnce_EachResultIsTheOneShotHmac()
    {
        var hasher = new KeyHasher(_hashingKeyA);
        string[] secrets = [.. Enumerable.Range(0, 64).Select(_ => ApiKeyFormat.NewSecret())];

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => secrets.Select(s => hasher.Hash(s)).ToArray())));

        string[] expected = [.. secrets.Select(s => OneShot(_hashingKeyA, s))];
        Assert.All(results, hashes => Assert.Equal(expected, hashes));
    }

    [Fact]
    public void Constructor_HashingKeyShorterThan32Bytes_Throws()
    {
        Assert.Throws<ArgumentException>(() => new KeyHasher(new byte[31]));
    }

    private static string OneShot(byte[] key, string secret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(secret)));
}
