using Microsoft.ML.Tokenizers;

namespace Tollgate.Tokenization;

/// <summary>
/// Counts tokens for one model with its real tokenizer. Thread-safe; one instance per (encoding, margin).
/// </summary>
public sealed class TokenCounter
{
    private readonly Tokenizer _tokenizer;
    private readonly int _marginPercent;

    internal TokenCounter(Tokenizer tokenizer, string encoding, int marginPercent)
    {
        _tokenizer = tokenizer;
        Encoding = encoding;
        _marginPercent = marginPercent;
    }

    /// <summary>The encoding this counter uses.</summary>
    public string Encoding { get; }

    /// <summary>Whether counts are approximate (a model without a shipped tokenizer).</summary>
    public bool IsApproximate => Encoding == TokenEncoding.Approximate;

    /// <summary>Counts the tokens of <paramref name="text"/>, plus the safety margin for approximate encodings.</summary>
    public int Count(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return 0;
        }

        int raw = _tokenizer.CountTokens(text, considerPreTokenization: true, considerNormalization: true);
        return ApplyMargin(raw);
    }

    /// <summary>Counts the tokens of <paramref name="text"/>.</summary>
    public int Count(string? text) => text is null ? 0 : Count(text.AsSpan());

    /// <summary>Adds the configured safety margin (rounded up) to a raw count.</summary>
    public int ApplyMargin(int raw) =>
        _marginPercent == 0 || raw == 0 ? raw : checked((int)((raw * (100L + _marginPercent) + 99) / 100));

    /// <summary>Splits <paramref name="text"/> into token ids (used by the simulator to produce exact counts).</summary>
    public IReadOnlyList<int> Encode(string text) => _tokenizer.EncodeToIds(text);

    /// <summary>Turns token ids back into text.</summary>
    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids);
}
