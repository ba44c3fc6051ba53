using System.Text;

namespace Tollgate.Tokenization;

/// <summary>
/// The running token count of a stream's text, kept only as far as a cut needs it: a relay asks, event by event,
/// whether the text streamed so far is certainly over <c>cutAbove</c> tokens.
/// </summary>
/// <remarks>
/// <para>Each event's text is counted on its own, as it came (so a word split across two events counts as its two
/// parts would). A token is at least one byte of UTF-8, so text not yet counted holds at most as many tokens as its
/// UTF-8 bytes. The events are tokenized only when the tokens counted so far plus the bytes not yet counted could pass
/// the cut; most streams end before that ever happens. The count is the same as counting every event as it comes:
/// the first event at which that count passes the cut is also an event at which the bound passes it, so the events
/// up to it are counted there, and the cut falls on the same event.</para>
/// <para>Every character is tokenized at most once, by the bounded count, which stops just past the room left: the
/// work is linear in the text and bounded by the cut, whatever the text (an upstream's unbroken run of one letter
/// included).</para>
/// </remarks>
public sealed class StreamedTextCount
{
    private const int CopyBlock = 512;
    private readonly TokenCounter _counter;
    private readonly long _cutAbove;
    private int _counted;       // characters of the text tokenized so far
    private int _seen;          // characters of the text whose bytes are in _pendingBytes or already counted
    private long _pendingBytes; // UTF-8 bytes of the characters in [_counted, _seen)
    private readonly List<int> _eventEnds = []; // where each event not yet counted ends in the text

    /// <summary>A count for a stream that may carry at most <paramref name="cutAbove"/> tokens before it is cut.</summary>
    public StreamedTextCount(TokenCounter counter, long cutAbove)
    {
        _counter = counter;
        _cutAbove = cutAbove;
    }

    /// <summary>The tokens of the text tokenized so far (not of all the text seen: see <see cref="PastCut"/>).</summary>
    public long Tokens { get; private set; }

    /// <summary>Whether the text is certainly over the cut: its count passed <c>cutAbove</c>.</summary>
    public bool PastCut => Tokens > _cutAbove;

    /// <summary>
    /// Takes in what <paramref name="text"/> gained since the last call (the stream's text so far, appended to only) as
    /// one event's text, and tokenizes the events not yet counted if they could carry the count past the cut. Returns
    /// <see cref="PastCut"/>.
    /// </summary>
    public bool Advance(StringBuilder text)
    {
        if (text.Length <= _seen || PastCut)
        {
            return PastCut;
        }

        _pendingBytes = Pricing.Saturating.Add(_pendingBytes, Utf8Bytes(text, _seen, text.Length - _seen));
        _seen = text.Length;
        _eventEnds.Add(_seen);
        if (Pricing.Saturating.Add(Tokens, _pendingBytes) > _cutAbove)
        {
            Span<char> shortText = stackalloc char[ShortTextCounts.MaxLength];
            foreach (int end in _eventEnds)
            {
                long room = Math.Max(0, _cutAbove - Tokens);
                int length = end - _counted;
                long tokens;
                if (length <= ShortTextCounts.MaxLength)
                {
                    // An event of a word or two: counted from a copy on the stack, most often found already counted.
                    text.CopyTo(_counted, shortText, length);
                    tokens = _counter.CountStreamed(shortText[..length]);
                }
                else
                {
                    tokens = _counter.CountUpTo(text.ToString(_counted, length), room, TokenCounter.PieceLength);
                }

                Tokens = Pricing.Saturating.Add(Tokens, tokens);
                _counted = end;
                if (PastCut)
                {
                    break; // the stream is cut here: what follows is never counted
                }
            }

            _eventEnds.Clear();
            _pendingBytes = 0;
        }

        return PastCut;
    }

    // The UTF-8 length of text[start, start + length), copied out in blocks from the builder's tail (where its last
    // chunks are found first). A surrogate pair split between two blocks counts 3 + 3 bytes instead of 4: an upper bound still.
    private static long Utf8Bytes(StringBuilder text, int start, int length)
    {
        Span<char> block = stackalloc char[CopyBlock];
        long bytes = 0;
        while (length > 0)
        {
            int n = Math.Min(length, CopyBlock);
            text.CopyTo(start, block[..n], n);
            bytes += Encoding.UTF8.GetByteCount(block[..n]);
            start += n;
            length -= n;
        }

        return bytes;
    }
}
