namespace Tollgate.Validation;

/// <summary>
/// What <see cref="RepetitionDetector.Inspect"/> found: a decision plus the measurements behind it, for the audit
/// ledger. The measurements never contain prompt text.
/// </summary>
public readonly record struct RepetitionVerdict
{
    /// <summary>Whether the text should be refused as repetitive or amplifying.</summary>
    public bool IsRepetitive { get; init; }

    /// <summary>A <see cref="RepetitionReasons"/> code when <see cref="IsRepetitive"/>; otherwise null.</summary>
    public string? Reason { get; init; }

    /// <summary>
    /// Examined windows per distinct window (1 = nothing repeats; about N for N copies of one phrase); null when the
    /// text was shorter than <see cref="RepetitionOptions.MinLength"/>. When the text is diverse the measure stops
    /// early, so a value below the threshold may describe only the part read before it was decided.
    /// </summary>
    public double? CompressionRatio { get; init; }

    /// <summary>
    /// Distinct words divided by words (two characters or more, case-folded); null when the text was shorter than
    /// <see cref="RepetitionOptions.MinLength"/> or had fewer than <see cref="RepetitionOptions.MinWords"/> words.
    /// Like <see cref="CompressionRatio"/>, it may describe a prefix when the text is clearly diverse.
    /// </summary>
    public double? DistinctWordRatio { get; init; }

    /// <summary>The repetition count an amplification request asked for (<see cref="long.MaxValue"/> for "forever"); 0 when none.</summary>
    public long RequestedRepetitions { get; init; }

    /// <summary>Characters in the sampled regions: the whole text up to <see cref="RepetitionOptions.MaxExaminedChars"/>, never more.</summary>
    public int CharactersExamined { get; init; }
}
