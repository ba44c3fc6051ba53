using System.Diagnostics;
using Microsoft.ML.Tokenizers;

namespace Tollgate.Tokenization;

/// <summary>
/// Counts tokens for one model with its real tokenizer. Thread-safe; one instance per (encoding, margin).
/// </summary>
/// <remarks>
/// <see cref="Count(ReadOnlySpan{char})"/> is the tokenizer's exact count. Its byte-pair merge is quadratic in the
/// length of one pre-token (a run the tokenizer's regex does not split: letters without spaces, one repeated
/// character, CJK, emoji), so text a caller controls is counted with <see cref="CountBounded(string?)"/> or
/// <see cref="CountUpTo(string?, long)"/>, whose work is linear in the text (see <c>TokenCounter.Bounded.cs</c>).
/// </remarks>
public sealed partial class TokenCounter
{
    private readonly Tokenizer _tokenizer;
    // 4,096 digests of 16 bytes and their counts: well under a megabyte.
    private const int RecentTextCapacity = 4096;

    private readonly int _marginPercent;

    // Complete counts of long texts counted lately, by digest (this counter's encoding and margin).
    private readonly TokenCountCache _recent = new(RecentTextCapacity);

    // Complete counts of streamed events' short texts (a word or two of output), by the text (this counter's encoding and margin).
    private readonly ShortTextCounts _short = new();

    internal TokenCounter(Tokenizer tokenizer, string encoding, int marginPercent)
    {
        // The bounded counts pre-tokenize the raw text themselves; a normalizing tokenizer would need it normalized first.
        Debug.Assert(tokenizer.Normalizer is null, "Tiktoken tokenizers do not normalize.");
        _tokenizer = tokenizer;
        Encoding = encoding;
        _marginPercent = marginPercent;
    }

    /// <summary>The encoding this counter uses.</summary>
    public string Encoding { get; }

    /// <summary>The tokenizer this counter wraps (tests wrap it to observe the work handed to it).</summary>
    internal Tokenizer Tokenizer => _tokenizer;

    /// <summary>
    /// Counts the tokens of <paramref name="text"/> exactly as the tokenizer does, plus the safety margin for
    /// approximate encodings. Its cost grows with the square of the longest unbroken run in the text: for text a
    /// caller controls, use <see cref="CountBounded(ReadOnlySpan{char})"/> or <see cref="CountUpTo(ReadOnlySpan{char}, long)"/>.
    /// </summary>
    public int Count(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return 0;
        }

        int raw = _tokenizer.CountTokens(text, considerPreTokenization: true, considerNormalization: true);
        return ApplyMargin(raw);
    }

    /// <summary>Counts the tokens of <paramref name="text"/> exactly (see <see cref="Count(ReadOnlySpan{char})"/>).</summary>
    public int Count(string? text) => text is null ? 0 : Count(text.AsSpan());

    /// <summary>
    /// Splits <paramref name="text"/> at its tokens' boundaries, as a model emits it: each piece with the number of
    /// tokens it is made of (one, or more where a character spans several byte-level tokens). The counts sum to the
    /// raw count of the whole text. For text the gateway itself produces, not for text a caller controls (its cost is
    /// that of <see cref="Count(ReadOnlySpan{char})"/>).
    /// </summary>
    public IReadOnlyList<(string Piece, int Tokens)> Split(string text)
    {
        var pieces = new List<(string, int)>();
        if (text.Length == 0)
        {
            return pieces;
        }

        var tokens = _tokenizer.EncodeToTokens(text, out _, considerPreTokenization: true, considerNormalization: true);
        int start = 0, count = 0;
        foreach (var token in tokens)
        {
            int tokenStart = Math.Clamp(token.Offset.Start.GetOffset(text.Length), 0, text.Length);
            if (tokenStart > start && count > 0)
            {
                pieces.Add((text[start..tokenStart], count));
                start = tokenStart;
                count = 0;
            }

            count++;
        }

        pieces.Add((text[start..], Math.Max(count, 1)));
        return pieces;
    }

    /// <summary>The roles a message names nearly always, whose counts <see cref="CountKnownRole"/> keeps.</summary>
    internal static readonly string[] KnownRoles = ["system", "user", "assistant", "tool", "developer", "function"];

    private static readonly byte[][] s_knownRolesUtf8 = Array.ConvertAll(KnownRoles, System.Text.Encoding.UTF8.GetBytes);

    // Their counts with this counter's encoding and margin, worked out on first use (racing first uses agree).
    private long[]? _knownRoleCounts;

    /// <summary>The index in <see cref="KnownRoles"/> of the string <paramref name="role"/>, or -1.</summary>
    internal static int KnownRole(System.Text.Json.JsonElement role)
    {
        for (int i = 0; i < KnownRoles.Length; i++)
        {
            if (role.ValueEquals(s_knownRolesUtf8[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The count of <see cref="KnownRoles"/>[<paramref name="index"/>], as <see cref="CountUpTo(string?, long)"/> gives it.</summary>
    internal long CountKnownRole(int index)
    {
        var counts = _knownRoleCounts ??= Array.ConvertAll(KnownRoles, role => CountUpTo(role, long.MaxValue));
        return counts[index];
    }

    /// <summary>Adds the configured safety margin (rounded up) to a raw count.</summary>
    public int ApplyMargin(int raw) => checked((int)ApplyMargin((long)raw));

    private long ApplyMargin(long raw) =>
        _marginPercent == 0 || raw == 0 ? raw : checked(((raw * (100L + _marginPercent)) + 99) / 100);
}
