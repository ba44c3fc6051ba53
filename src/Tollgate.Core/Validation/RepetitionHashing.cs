using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Tollgate.Validation;

/// <summary>
/// The hash parameters of one <see cref="RepetitionDetector"/>: a Rabin–Karp base modulo the Mersenne prime 2⁶¹−1
/// (no fixed base, so no precomputed collision strings such as the Thue–Morse ones that break hashing mod 2⁶⁴) and
/// a seed for word hashes. A collision can only merge two values, so at worst it makes a text look a little more
/// repetitive; with 2⁶¹ values it does not happen in practice.
/// </summary>
internal sealed class RepetitionHashing
{
    public const ulong Modulus = (1UL << 61) - 1;
    public const ulong WordPrime = 0x100000001B3; // FNV-1a

    public RepetitionHashing(int width)
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        Base = (BinaryPrimitives.ReadUInt64LittleEndian(random) % (Modulus - 65_536)) + 65_536;
        WordSeed = BinaryPrimitives.ReadUInt64LittleEndian(random[8..]);
        ulong power = 1;
        for (int i = 0; i < width; i++)
        {
            power = MulMod(power, Base);
        }

        BaseToWidth = power;
    }

    public ulong Base { get; }

    /// <summary>Base to the power of the window width: the weight of the character that leaves the window.</summary>
    public ulong BaseToWidth { get; }

    public ulong WordSeed { get; }

    public static ulong MulMod(ulong a, ulong b)
    {
        UInt128 product = (UInt128)a * b;
        ulong sum = ((ulong)product & Modulus) + (ulong)(product >> 61);
        sum = sum >= Modulus ? sum - Modulus : sum;
        return sum >= Modulus ? sum - Modulus : sum; // sum can reach 2·Modulus; keep results canonical
    }

    public static ulong AddMod(ulong a, ulong b)
    {
        ulong sum = a + b;
        return sum >= Modulus ? sum - Modulus : sum;
    }

    public static ulong SubMod(ulong a, ulong b) => a >= b ? a - b : a + Modulus - b;

    /// <summary>The 64-bit finalizer of MurmurHash3: spreads a hash over all bits before it picks a slot and a tag.</summary>
    public static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCD;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53;
        h ^= h >> 33;
        return h;
    }
}
