using System.Collections.Concurrent;
using Microsoft.ML.Tokenizers;

namespace Tollgate.Tokenization;

/// <summary>
/// Loads each tiktoken vocabulary once per process (loading one takes ~100 ms and ~20 MB) and hands out
/// counters for an (encoding, margin) pair.
/// </summary>
public sealed class TokenCounterRegistry
{
    private static readonly Lazy<Tokenizer> s_o200k = new(() => TiktokenTokenizer.CreateForEncoding(TokenEncoding.O200kBase));
    private static readonly Lazy<Tokenizer> s_cl100k = new(() => TiktokenTokenizer.CreateForEncoding(TokenEncoding.Cl100kBase));

    private readonly ConcurrentDictionary<(string Encoding, int Margin), TokenCounter> _counters = new();

    /// <summary>A process-wide registry.</summary>
    public static TokenCounterRegistry Shared { get; } = new();

    /// <summary>Returns the counter for <paramref name="encoding"/> with <paramref name="marginPercent"/> added to approximate counts.</summary>
    /// <exception cref="ArgumentException">The encoding is unknown (configuration validation prevents this).</exception>
    public TokenCounter Get(string encoding, int marginPercent = 0)
    {
        int margin = encoding == TokenEncoding.Approximate ? marginPercent : 0;
        return _counters.GetOrAdd((encoding, margin), static key => key.Encoding switch
        {
            TokenEncoding.O200kBase => new TokenCounter(s_o200k.Value, key.Encoding, 0),
            TokenEncoding.Cl100kBase => new TokenCounter(s_cl100k.Value, key.Encoding, 0),
            TokenEncoding.Approximate => new TokenCounter(s_cl100k.Value, key.Encoding, key.Margin),
            _ => throw new ArgumentException($"Unknown token encoding '{key.Encoding}'.", nameof(encoding)),
        });
    }
}
