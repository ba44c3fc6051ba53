namespace Tollgate.Simulator;

/// <summary>
/// 64-bit FNV-1a over UTF-16 code units: the same text hashes the same in every process and on every run,
/// unlike <see cref="string.GetHashCode()"/>.
/// </summary>
internal static class StableHash
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    /// <summary>Hashes <paramref name="text"/>.</summary>
    public static ulong Fnv1a(ReadOnlySpan<char> text)
    {
        ulong hash = OffsetBasis;
        foreach (char c in text)
        {
            hash = (hash ^ (byte)c) * Prime;
            hash = (hash ^ (byte)(c >> 8)) * Prime;
        }

        return hash;
    }
}
