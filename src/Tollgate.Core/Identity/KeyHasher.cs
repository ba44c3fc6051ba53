using System.Security.Cryptography;
using System.Text;

namespace Tollgate.Identity;

/// <summary>
/// Turns a secret key into the value stored and looked up: HMAC-SHA256 under a gateway-wide hashing key. A stolen
/// database alone cannot be used to test guesses offline, and the lookup compares hashes the caller cannot choose,
/// so response times reveal nothing about stored keys.
/// </summary>
public sealed class KeyHasher
{
    private readonly byte[] _key;

    /// <summary>Creates a hasher from a hashing key of at least 32 bytes.</summary>
    public KeyHasher(ReadOnlySpan<byte> hashingKey)
    {
        if (hashingKey.Length < 32)
        {
            throw new ArgumentException("The key-hashing key must be at least 32 bytes.", nameof(hashingKey));
        }

        _key = hashingKey.ToArray();
    }

    /// <summary>The lowercase hex HMAC of <paramref name="secret"/>.</summary>
    public string Hash(ReadOnlySpan<char> secret)
    {
        Span<byte> utf8 = stackalloc byte[256];
        int length = Encoding.UTF8.GetBytes(secret[..Math.Min(secret.Length, 64)], utf8);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, utf8[..length], mac);
        return Convert.ToHexStringLower(mac);
    }
}
