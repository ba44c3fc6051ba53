using System.Collections.Concurrent;

namespace Tollgate.Tokenization;

/// <summary>
/// The complete token counts of streamed events' short texts counted lately, by the text: a stream's events carry a
/// word or two of the model's output each, and the same words come back in every stream, so each event would otherwise
/// pay for a pre-tokenization and a lookup per word. Looked up by span, without a copy. Bounded, and emptied when full.
/// </summary>
/// <remarks>
/// Only a model's streamed output comes here, never a prompt: a text is kept only up to <see cref="MaxLength"/>
/// characters, about what the tokenizer itself keeps in its own cache of the words (pre-tokens) it counted. The size
/// is counted apart from the dictionary, whose <c>Count</c> takes every one of its locks.
/// </remarks>
internal sealed class ShortTextCounts
{
    /// <summary>The longest text kept.</summary>
    public const int MaxLength = 16;

    /// <summary>Texts kept before the cache is emptied: at most about a megabyte.</summary>
    public const int Capacity = 8192;

    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private int _count;

    public ShortTextCounts() => _bySpan = _counts.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>How many texts are kept.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The complete count of <paramref name="text"/>, when it was counted lately.</summary>
    public bool TryGet(ReadOnlySpan<char> text, out long count) => _bySpan.TryGetValue(text, out count);

    /// <summary>Keeps the complete count of <paramref name="text"/> (at most <see cref="MaxLength"/> characters).</summary>
    public void Add(string text, long count)
    {
        if (text.Length > MaxLength)
        {
            return;
        }

        if (Volatile.Read(ref _count) >= Capacity)
        {
            // Racing adds may each empty it: harmless, it fills again.
            _counts.Clear();
            Volatile.Write(ref _count, 0);
        }

        if (_counts.TryAdd(text, count))
        {
            Interlocked.Increment(ref _count);
        }
    }
}
