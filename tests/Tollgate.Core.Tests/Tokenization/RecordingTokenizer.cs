using System.Buffers;
using Microsoft.ML.Tokenizers;
using Tollgate.Tokenization;

namespace Tollgate.Core.Tests.Tokenization;

/// <summary>
/// Wraps a real tokenizer and records every count handed to it, so tests can assert the work a count does
/// (characters tokenized, pieces, the longest piece) instead of timing it.
/// </summary>
internal sealed class RecordingTokenizer(Tokenizer inner) : Tokenizer
{
    private readonly List<string> _pieces = [];

    /// <summary>Every text handed to <see cref="Tokenizer.CountTokens(ReadOnlySpan{char}, bool, bool)"/>, in order.</summary>
    public IReadOnlyList<string> Pieces => _pieces;

    public long CharactersCounted => _pieces.Sum(piece => (long)piece.Length);

    public int LongestPiece => _pieces.Count == 0 ? 0 : _pieces.Max(piece => piece.Length);

    public override PreTokenizer? PreTokenizer => inner.PreTokenizer;

    public override Normalizer? Normalizer => inner.Normalizer;

    public static TokenCounter Wrap(string encoding, out RecordingTokenizer recorder, int marginPercent = 0)
    {
        recorder = new RecordingTokenizer(TokenCounterRegistry.Shared.Get(encoding).Tokenizer);
        return new TokenCounter(recorder, encoding, marginPercent);
    }

    public void Reset() => _pieces.Clear();

    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        ReadOnlySpan<char> span = text is null ? textSpan : text.AsSpan();
        _pieces.Add(span.ToString());
        return inner.CountTokens(span, settings.ConsiderPreTokenization, settings.ConsiderNormalization);
    }

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        ReadOnlySpan<char> span = text is null ? textSpan : text.AsSpan();
        var tokens = inner.EncodeToTokens(span, out string? normalized, settings.ConsiderPreTokenization, settings.ConsiderNormalization);
        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = normalized, CharsConsumed = span.Length };
    }

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten) =>
        inner.Decode(ids, destination, out idsConsumed, out charsWritten);
}
