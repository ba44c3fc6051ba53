using System.Security.Cryptography;

namespace Tollgate.Security;

/// <summary>
/// Cryptographically strong random bytes for identifiers (request, reservation and response ids), drawn from a
/// per-thread buffer refilled from <see cref="RandomNumberGenerator"/> 256 bytes at a time: one call into the
/// system's generator serves about twenty ids instead of one. Not for secrets (keys are made from
/// <see cref="RandomNumberGenerator"/> directly), since the buffer keeps bytes in memory until they are used.
/// </summary>
internal static class BufferedRandom
{
    private const int BufferSize = 256;
    private const int TimeDigits = 12;
    private const long MaxTimeField = (1L << (TimeDigits * 4)) - 1;

    [ThreadStatic]
    private static byte[]? t_buffer;

    [ThreadStatic]
    private static int t_used;

    /// <summary>Fills <paramref name="destination"/> with random bytes, each handed out once.</summary>
    public static void Fill(Span<byte> destination)
    {
        if (destination.Length > BufferSize / 4)
        {
            RandomNumberGenerator.Fill(destination);
            return;
        }

        var buffer = t_buffer;
        if (buffer is null || t_used + destination.Length > BufferSize)
        {
            buffer = t_buffer ??= new byte[BufferSize];
            RandomNumberGenerator.Fill(buffer);
            t_used = 0;
        }

        buffer.AsSpan(t_used, destination.Length).CopyTo(destination);
        buffer.AsSpan(t_used, destination.Length).Clear();
        t_used += destination.Length;
    }

    /// <summary><paramref name="prefix"/>, then <paramref name="bytes"/> random bytes (at most 64) in lowercase hex.</summary>
    public static string HexId(string prefix, int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, BufferSize / 4);
        return string.Create(prefix.Length + (bytes * 2), (prefix, bytes), static (chars, state) =>
        {
            state.prefix.CopyTo(chars);
            Span<byte> random = stackalloc byte[state.bytes];
            Fill(random);
            Convert.TryToHexStringLower(random, chars[state.prefix.Length..], out _);
        });
    }

    /// <summary>
    /// <paramref name="prefix"/>, the Unix time of <paramref name="at"/> in milliseconds (12 hex digits), then
    /// <paramref name="bytes"/> random bytes (at most 64) in lowercase hex. An id made later sorts after (ordinal), so
    /// an index of such ids grows at its end instead of taking a write in a random page of it for every new id.
    /// </summary>
    public static string TimeOrderedHexId(string prefix, DateTimeOffset at, int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, BufferSize / 4);
        long ms = Math.Clamp(at.ToUnixTimeMilliseconds(), 0, MaxTimeField);
        return string.Create(prefix.Length + TimeDigits + (bytes * 2), (prefix, ms, bytes), static (chars, state) =>
        {
            state.prefix.CopyTo(chars);
            var time = chars.Slice(state.prefix.Length, TimeDigits);
            state.ms.TryFormat(time, out _, "x12", System.Globalization.CultureInfo.InvariantCulture);
            Span<byte> random = stackalloc byte[state.bytes];
            Fill(random);
            Convert.TryToHexStringLower(random, chars[(state.prefix.Length + TimeDigits)..], out _);
        });
    }
}
