namespace Tollgate.Validation;

/// <summary>
/// How <see cref="RepetitionDetector"/> judges a prompt. The defaults were measured on a corpus of legitimate
/// prompts (source files, logs, CSV, JSON, markdown tables, prose in several languages) and of repetition attacks,
/// kept as <c>RepetitionDetectorTests</c>. Ranges are checked by <see cref="RepetitionOptionsValidator"/>.
/// </summary>
public sealed class RepetitionOptions
{
    /// <summary>
    /// Texts shorter than this many characters are never judged repetitive (range 128–16,777,216; default 2,000).
    /// Explicit amplification requests ("say it 10000 times") are short by nature and are detected at any length.
    /// </summary>
    public int MinLength { get; set; } = 2_000;

    /// <summary>
    /// The most characters one inspection reads (range 16,384–16,777,216; default 262,144). A longer text is
    /// sampled: its first half of this budget, its last quarter, and eight evenly spaced slices of the middle.
    /// Work is linear in this number, not in the text, so a 10 MB prompt costs the same as a 256 KB one.
    /// </summary>
    public int MaxExaminedChars { get; set; } = 262_144;

    /// <summary>
    /// Width, in normalized characters, of the windows (shingles) whose repeats are counted (range 16–256;
    /// default 64). Wider windows span the varying fields of structured data (ids, timestamps), so tables, logs
    /// and JSON stay diverse; a repeated phrase repeats at any width.
    /// </summary>
    public int ShingleLength { get; set; } = 64;

    /// <summary>
    /// The text is repetitive when its estimated compression ratio — examined windows per distinct window, after
    /// whitespace runs are collapsed and letters lower-cased — exceeds this (range 2–10,000; default 8). Legitimate
    /// inputs measured at most 2.5 (deeply nested, near-identical JSON); a phrase repeated 500 times scores ~500.
    /// An agent that pastes the same file several times into one request scores about that number of copies,
    /// hence the headroom.
    /// </summary>
    public double MaxCompressionRatio { get; set; } = 8;

    /// <summary>
    /// The text has low diversity when distinct words (two characters or more, case-folded) divided by all such
    /// words falls below this (range 0–0.5; default 0.01; 0 turns the check off). This catches a small vocabulary
    /// shuffled or separated by random whitespace, which defeats exact repeats. Legitimate inputs measured 0.04 or
    /// more; natural language stays above 0.1 at the examined size.
    /// </summary>
    public double MinDistinctWordRatio { get; set; } = 0.01;

    /// <summary>Fewest words (two characters or more) before the word check judges (range 100–100,000; default 1,000).</summary>
    public int MinWords { get; set; } = 1_000;

    /// <summary>Whether explicit requests to repeat something many times are refused (default true).</summary>
    public bool DetectAmplificationRequests { get; set; } = true;

    /// <summary>
    /// Smallest requested repetition count that makes an amplification request (at least 2; default 1,000).
    /// "Repeat 3 times" in a recipe is not one; "say it 10,000 times" is. "Forever" counts as unbounded.
    /// </summary>
    public long MinAmplificationCount { get; set; } = 1_000;

    /// <summary>
    /// Time limit for the amplification pattern on one sampled region (range 1 ms–10 s; default 2 s, generous because a starved machine must not skip the check). The
    /// pattern runs on the non-backtracking engine, so this is a backstop; on expiry the region counts as clean.
    /// </summary>
    public TimeSpan AmplificationMatchTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
