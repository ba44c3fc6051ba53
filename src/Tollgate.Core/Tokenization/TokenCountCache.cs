using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Tollgate.Collections;

namespace Tollgate.Tokenization;

/// <summary>
/// The token counts of texts counted lately, by a digest of the text: a conversation sends its whole history again on
/// every turn, so most of a long prompt's messages were counted on the turn before. Bounded, and shared by the
/// requests of every caller.
/// </summary>
/// <remarks>
/// A text is known by its SHA-256 (the first 128 bits), never by its contents, so the cache keeps no prompt text and a
/// caller cannot make its text collide with another's. Only complete counts are kept (never the partial count of a
/// text stopped at a cap). When the cache is full it is emptied and fills again with what is sent next: cheaper than
/// tracking recency on every lookup, and a conversation's next turn repopulates it.
/// </remarks>
internal sealed class TokenCountCache(int capacity)
{
    /// <summary>Texts shorter than this are counted every time: their digest would cost about what counting them does.</summary>
    public const int MinLength = 256;

    /// <summary>Texts longer than this are counted every time: their count is dominated by their own length, not by repetition.</summary>
    public const int MaxLength = 1024 * 1024;

    private readonly ClearingMap<UInt128, long> _counts = new(capacity);

    /// <summary>Whether <paramref name="text"/> is one the cache keeps counts of.</summary>
    public static bool Applies(string text) => text.Length is >= MinLength and <= MaxLength;

    /// <summary>The digest <paramref name="text"/> is known by.</summary>
    public static UInt128 KeyOf(string text)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(text.AsSpan()), digest);
        return MemoryMarshal.Read<UInt128>(digest);
    }

    /// <summary>The complete count of the text known by <paramref name="key"/>, when it was counted lately.</summary>
    public bool TryGet(UInt128 key, out long count) => _counts.TryGetValue(key, out count);

    /// <summary>Keeps the complete count of the text known by <paramref name="key"/>.</summary>
    public void Add(UInt128 key, long count) => _counts.Set(key, count);

    /// <summary>How many counts the cache holds.</summary>
    public int Count => _counts.Count;
}
