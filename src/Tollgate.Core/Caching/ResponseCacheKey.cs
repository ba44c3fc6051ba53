using System.Buffers.Binary;

namespace Tollgate.Caching;

/// <summary>
/// The identity of a stored answer: a SHA-256 over the namespace, the endpoint, the resolved model and upstream and the
/// canonical form of the body as forwarded (<see cref="ResponseCacheKeys"/>). A value, so a store can keep it in memory
/// or write it as text (<see cref="ToString"/>, 64 hex digits).
/// </summary>
/// <param name="High">The first 16 bytes of the hash, big-endian.</param>
/// <param name="Low">The last 16 bytes of the hash, big-endian.</param>
public readonly record struct ResponseCacheKey(UInt128 High, UInt128 Low)
{
    /// <summary>The key of a 32-byte SHA-256 hash.</summary>
    public static ResponseCacheKey FromHash(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != 32)
        {
            throw new ArgumentException("A response cache key is a 32-byte SHA-256 hash.", nameof(hash));
        }

        return new ResponseCacheKey(BinaryPrimitives.ReadUInt128BigEndian(hash), BinaryPrimitives.ReadUInt128BigEndian(hash[16..]));
    }

    /// <summary>The hash as 64 lower-case hex digits.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[32];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt128BigEndian(bytes[16..], Low);
        return Convert.ToHexStringLower(bytes);
    }
}
