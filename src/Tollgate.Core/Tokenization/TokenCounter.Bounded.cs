using System.Text.Json;
using Microsoft.ML.Tokenizers;
using Tollgate.Protocol;

namespace Tollgate.Tokenization;

// Token counts whose work is linear in the text for every text, and that stop at a cap
// (issue: "the gateway's own CPU is a resource attackers will aim at"; numbers in docs/performance.md).
public sealed partial class TokenCounter
{
    /// <summary>
    /// The most characters the bounded counts hand to the tokenizer's byte-pair merge at once. A pre-token (a run
    /// the tokenizer's regex does not split) longer than this is counted in pieces of this length.
    /// </summary>
    /// <remarks>
    /// 256, from the sweep in docs/performance.md: the merge is quadratic in a piece's length, so the cost per
    /// character rises with it (against the cheapest length measured, 256 costs up to 2× per character, 512 up to
    /// 4×, 1024 up to 6×), while every cut can move the count, so pieces should not be short either. No word,
    /// number, indentation or separator line of ordinary text reaches 256 characters without a break, so ordinary
    /// text is never cut.
    /// </remarks>
    public const int PieceLength = 256;

    /// <summary>
    /// Counts the tokens of <paramref name="text"/> with work linear in its length, plus the safety margin for
    /// approximate encodings.
    /// </summary>
    /// <remarks>
    /// <para>The text is pre-tokenized once with the tokenizer's own regex (linear), then each pre-token is counted
    /// on its own, exactly as the tokenizer counts it. Text whose pre-tokens are all at most
    /// <see cref="PieceLength"/> characters — any text with ordinary whitespace and punctuation — gets exactly
    /// <see cref="Count(ReadOnlySpan{char})"/>.</para>
    /// <para>A longer pre-token is cut into pieces of <see cref="PieceLength"/> characters (never inside a
    /// surrogate pair), counted separately. A cut forbids the merges across it, which usually costs a token and can
    /// also, rarely, save one: measured on random strings over many alphabets (<c>Tollgate.Benchmarks --
    /// cut-deviation</c>), one cut moved the count by −2 to +5 tokens (+5 only for runs of one punctuation
    /// character, which the vocabulary covers with long tokens, cut at an unlucky place; −2 to +3 at the 256th
    /// character; −1 to +1 in more than nine cuts of ten). So the result is within −2 and +5 tokens per cut of the
    /// exact count, a cut every <see cref="PieceLength"/> characters of an unbroken run, and on average slightly
    /// above the exact count.</para>
    /// </remarks>
    public long CountBounded(ReadOnlySpan<char> text) => CountUpTo(text, long.MaxValue);

    /// <summary>Counts the tokens of <paramref name="text"/> with work linear in its length (see <see cref="CountBounded(ReadOnlySpan{char})"/>).</summary>
    public long CountBounded(string? text) => CountUpTo(text, long.MaxValue);

    /// <summary>
    /// Counts the tokens of <paramref name="text"/> as <see cref="CountBounded(ReadOnlySpan{char})"/> does, but stops as
    /// soon as the count passes <paramref name="limit"/>: the result is the count if it is at most
    /// <paramref name="limit"/>, otherwise a partial count greater than <paramref name="limit"/>. So
    /// <c>CountUpTo(text, cap) &gt; cap</c> says "over the cap" after tokenizing at most
    /// (<paramref name="limit"/> + 1) × <see cref="PieceLength"/> characters, however long the text.
    /// </summary>
    public long CountUpTo(ReadOnlySpan<char> text, long limit) =>
        text.IsEmpty ? 0 : CountPreTokens(text, _tokenizer.PreTokenizer?.PreTokenize(text), limit, PieceLength);

    /// <summary>
    /// The complete count of one streamed event's text of at most <see cref="ShortTextCounts.MaxLength"/> characters
    /// (a word or two of a model's output): looked up, or counted and kept (<see cref="ShortTextCounts"/>). Its
    /// pre-tokens are all shorter than <see cref="PieceLength"/>, so it is the tokenizer's exact count, with the margin.
    /// Prompts never come here: their texts are not kept.
    /// </summary>
    internal long CountStreamed(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return 0;
        }

        if (text.Length > ShortTextCounts.MaxLength)
        {
            return CountUpTo(text, long.MaxValue);
        }

        if (_short.TryGet(text, out long known))
        {
            return known;
        }

        string kept = text.ToString();
        long count = CountPreTokens(kept, _tokenizer.PreTokenizer?.PreTokenize(kept), long.MaxValue, PieceLength);
        _short.Add(kept, count);
        return count;
    }

    /// <summary>Counts the tokens of <paramref name="text"/> up to <paramref name="limit"/> (see <see cref="CountUpTo(ReadOnlySpan{char}, long)"/>).</summary>
    /// <remarks>
    /// A long text counted lately (a conversation's history, sent again on every turn) is not tokenized again: its
    /// complete count comes from <see cref="TokenCountCache"/>. A known count above <paramref name="limit"/> is
    /// returned whole, which is still "greater than <paramref name="limit"/>".
    /// </remarks>
    public long CountUpTo(string? text, long limit)
    {
        if (text is null || !TokenCountCache.Applies(text))
        {
            return CountUpTo(text, limit, PieceLength);
        }

        var key = TokenCountCache.KeyOf(text);
        if (_recent.TryGet(key, out long known))
        {
            return known;
        }

        long count = CountUpTo(text, limit, PieceLength);
        if (count <= limit)
        {
            // Complete (a count that passed the limit may have stopped early): kept for the next turn.
            _recent.Add(key, count);
        }

        return count;
    }

    /// <summary>
    /// Counts the text of <paramref name="value"/>, a JSON string, up to <paramref name="limit"/>, as
    /// <see cref="CountUpTo(string?, long)"/> does. A text too short for <see cref="TokenCountCache"/> is decoded into a
    /// buffer on the stack and counted there: most of a request's texts (its roles, names and short messages) never
    /// become strings.
    /// </summary>
    public long CountUpTo(JsonElement value, long limit)
    {
        if (JsonStrings.MaxLength(value) >= TokenCountCache.MinLength)
        {
            return CountUpTo(value.GetString(), limit);
        }

        Span<char> text = stackalloc char[TokenCountCache.MinLength];
        return CountUpTo(text[..JsonStrings.Decode(value, text)], limit);
    }

    /// <summary>
    /// <see cref="CountUpTo(string?, long)"/> with another piece length: the benchmarks that chose
    /// <see cref="PieceLength"/> sweep it.
    /// </summary>
    internal long CountUpTo(string? text, long limit, int pieceLength) =>
        // The pre-tokenizer matches a string in place; a span it copies into a rented buffer first.
        string.IsNullOrEmpty(text) ? 0 : CountPreTokens(text, _tokenizer.PreTokenizer?.PreTokenize(text), limit, pieceLength);

    private long CountPreTokens(ReadOnlySpan<char> text, IEnumerable<(int Offset, int Length)>? preTokens, long limit, int pieceLength)
    {
        if (preTokens is null)
        {
            return ApplyMargin(CountPieces(text, 0, limit, pieceLength));
        }

        long raw = 0;
        foreach ((int offset, int length) in preTokens)
        {
            raw = CountPieces(text.Slice(offset, length), raw, limit, pieceLength);
            if (ApplyMargin(raw) > limit)
            {
                break;
            }
        }

        return ApplyMargin(raw);
    }

    /// <summary>Adds the tokens of one pre-token to <paramref name="raw"/>, in pieces of at most <paramref name="pieceLength"/>.</summary>
    private long CountPieces(ReadOnlySpan<char> preToken, long raw, long limit, int pieceLength)
    {
        while (preToken.Length > pieceLength)
        {
            int cut = char.IsHighSurrogate(preToken[pieceLength - 1]) ? pieceLength - 1 : pieceLength;
            raw += CountPiece(preToken[..cut]);
            if (ApplyMargin(raw) > limit)
            {
                return raw;
            }

            preToken = preToken[cut..];
        }

        return raw + CountPiece(preToken);
    }

    // The piece is already one pre-token (or part of one): counting it without pre-tokenization is exactly what
    // the tokenizer does for each of its own pre-tokens.
    private int CountPiece(ReadOnlySpan<char> piece) =>
        _tokenizer.CountTokens(piece, considerPreTokenization: false, considerNormalization: false);
}
