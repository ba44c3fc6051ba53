using System.Collections.Concurrent;
using Tollgate.Collections;

namespace Tollgate.Tokenization;

/// <summary>
/// The complete token counts of streamed events' short texts counted lately, by the text: a stream's events carry a
/// word or two of the model's output each, and the same words come back in every stream, so each event would otherwise
/// pay for a pre-tokenization and a lookup per word. Looked up by span, without a copy. Bounded, and emptied when full.
/// </summary>
/// <remarks>
/// Only a model's streamed output comes here, never a prompt: a text is kept only up to <see cref="MaxLength"/>
/// characters, about what the tokenizer itself keeps in its own cache of the words (pre-tokens) it counted.
/// </remarks>
internal sealed class ShortTextCounts
{
    /// <summary>The longest text kept.</summary>
    public const int MaxLength = 16;

    /// <summary>Texts kept before the cache is emptied: at most about a megabyte.</summary>
    public const int Capacity = 8192;

    private readonly ClearingMap<string, long> _counts = new(Capacity, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    public ShortTextCounts() => _bySpan = _counts.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>How many texts are kept.</summary>
    public int Count => _counts.Count;

    /// <summary>The complete count of <paramref name="text"/>, when it was counted lately.</summary>
    public bool TryGet(ReadOnlySpan<char> text, out long count) => _bySpan.TryGetValue(text, out count);

    /// <summary>Keeps the complete count of <paramref name="text"/> (at most <see cref="MaxLength"/> characters).</summary>
    public void Add(string text, long count)
    {
        if (text.Length > MaxLength)
        {
            return;
        }

        _counts.Set(text, count);
    }
}
