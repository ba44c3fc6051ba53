using System.Security.Cryptography;
using System.Text;

namespace Tollgate.Identity;

/// <summary>
/// Turns a secret key into the value stored and looked up: HMAC-SHA256 under a gateway-wide hashing key. A stolen
/// database alone cannot be used to test guesses offline, and the lookup compares hashes the caller cannot choose,
/// so response times reveal nothing about stored keys.
/// </summary>
/// <remarks>
/// Every request hashes its key, so each thread keeps one HMAC keyed once and reset after each use: a one-shot HMAC
/// looks the algorithm up and builds and frees its context on every call.
/// </remarks>
public sealed class KeyHasher
{
    [ThreadStatic]
    private static (byte[] Key, IncrementalHash Hmac)? t_hmac;

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
        var hmac = Hmac();
        hmac.AppendData(utf8[..length]);
        hmac.GetHashAndReset(mac);
        return Convert.ToHexStringLower(mac);
    }

    // This thread's HMAC under this hasher's key (a thread that served another hasher before makes a new one).
    private IncrementalHash Hmac()
    {
        if (t_hmac is { } held && ReferenceEquals(held.Key, _key))
        {
            return held.Hmac;
        }

        t_hmac?.Hmac.Dispose();
        var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        t_hmac = (_key, hmac);
        return hmac;
    }
}
