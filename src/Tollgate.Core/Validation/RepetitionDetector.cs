using System.Text.RegularExpressions;
using Tollgate.Configuration;

namespace Tollgate.Validation;

/// <summary>
/// Refuses prompts built to burn tokens: a phrase, a character or a block of lines repeated thousands of times
/// (<see cref="RepetitionReasons.RepeatedSubstring"/>), a tiny vocabulary shuffled or whitespace-jittered over many
/// words (<see cref="RepetitionReasons.LowDiversity"/>), and explicit requests to repeat something many times
/// (<see cref="RepetitionReasons.AmplificationRequest"/>). Code, logs, tables, CSV, JSON and prose in any language
/// pass: their varying fields keep long windows distinct.
/// </summary>
/// <remarks>
/// Work is linear in at most <see cref="RepetitionOptions.MaxExaminedChars"/> characters (see
/// <see cref="RepetitionVerdict.CharactersExamined"/>): one hashing pass over the sampled regions, one vectorized
/// keyword search, and a non-backtracking regex over the keywords' surroundings (at most the regions once). Memory is two pooled tables of about 11 bytes per examined character divided by
/// <see cref="RepetitionOptions.MaxCompressionRatio"/> at most (256 KB with the defaults), plus one window on the stack. Thread-safe; create one
/// per options and share it. Pass only text parts (no base64 images): random data is diverse and costs nothing to
/// pass, but it wastes the budget of examined characters.
/// </remarks>
public sealed class RepetitionDetector
{
    private readonly int _minLength;
    private readonly int _maxExamined;
    private readonly int _width;
    private readonly double _maxRatio;
    private readonly double _minWordRatio;
    private readonly int _minWords;
    private readonly RepetitionHashing _hashing;
    private readonly AmplificationRequestMatcher? _amplification;

    /// <summary>Creates a detector; throws <see cref="ArgumentException"/> listing every invalid option.</summary>
    public RepetitionDetector(RepetitionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<ConfigError>();
        RepetitionOptionsValidator.Validate(options, nameof(RepetitionOptions), errors);
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid repetition options: {string.Join("; ", errors)}", nameof(options));
        }

        // Copy the values: options are mutable, a detector's judgement is not.
        _minLength = options.MinLength;
        _maxExamined = options.MaxExaminedChars;
        _width = options.ShingleLength;
        _maxRatio = options.MaxCompressionRatio;
        _minWordRatio = options.MinDistinctWordRatio;
        _minWords = options.MinWords;
        _hashing = new RepetitionHashing(_width);
        _amplification = options.DetectAmplificationRequests
            ? new AmplificationRequestMatcher(options.MinAmplificationCount, options.AmplificationMatchTimeout)
            : null;
    }

    /// <summary>
    /// Runs every check once on a short text, so that the first request does not pay for building the matchers (a
    /// non-backtracking pattern is compiled on its first use).
    /// </summary>
    public void WarmUp() => Inspect("warm up: say hello 3 times");

    /// <summary>Judges <paramref name="text"/>, the concatenated text parts of one request.</summary>
    public RepetitionVerdict Inspect(ReadOnlySpan<char> text)
    {
        Span<Range> regions = stackalloc Range[TextSampler.MaxRegions];
        regions = regions[..TextSampler.Plan(text.Length, _maxExamined, regions)];
        int examined = 0;
        foreach (var region in regions)
        {
            examined += region.End.Value - region.Start.Value;
        }

        long requested = FindAmplification(text, regions);
        if (text.Length < _minLength)
        {
            return Decide(requested, null, null, examined);
        }

        var (ratio, wordRatio) = Measure(text, regions, examined);
        return Decide(requested, ratio, wordRatio, examined);
    }

    private RepetitionVerdict Decide(long requested, double? ratio, double? wordRatio, int examined)
    {
        string? reason =
            requested > 0 ? RepetitionReasons.AmplificationRequest
            : ratio > _maxRatio ? RepetitionReasons.RepeatedSubstring
            : wordRatio < _minWordRatio ? RepetitionReasons.LowDiversity
            : null;
        return new RepetitionVerdict
        {
            IsRepetitive = reason is not null,
            Reason = reason,
            CompressionRatio = ratio,
            DistinctWordRatio = wordRatio,
            RequestedRepetitions = requested,
            CharactersExamined = examined,
        };
    }

    private (double Ratio, double? WordRatio) Measure(ReadOnlySpan<char> text, ReadOnlySpan<Range> regions, int examined)
    {
        // Past these many distinct values a ratio can no longer cross its threshold, so the sets stop there:
        // flagged means distinct < windows / maxRatio ≤ examined / maxRatio, and each counted word takes at least
        // three characters (two letters and a separator) except the last of a region.
        int shingleLimit = (int)Math.Min(int.MaxValue - 1, examined / _maxRatio) + 1;
        // The word set holds at least MinWords entries so that a ratio is always computed over enough words.
        int wordLimit = _minWordRatio > 0 ? Math.Max(_minWords, (int)Math.Ceiling(_minWordRatio * (examined + regions.Length) / 3) + 1) : 0;

        Span<char> ring = stackalloc char[_width];
        using var meter = new RepetitionMeter(_hashing, ring, shingleLimit, wordLimit);
        foreach (var region in regions)
        {
            meter.Read(text[region]);
            if (meter.Decided)
            {
                break;
            }
        }

        // A text that is almost all whitespace has no window after normalization: compare what was read with
        // what was left.
        double ratio = meter.Windows > 0
            ? meter.Windows / (double)meter.DistinctWindows
            : examined / (double)Math.Max(1, meter.NormalizedChars);
        double? wordRatio = meter.Words >= _minWords ? meter.DistinctWords / (double)meter.Words : null;
        return (ratio, wordRatio);
    }

    private long FindAmplification(ReadOnlySpan<char> text, ReadOnlySpan<Range> regions)
    {
        if (_amplification is null)
        {
            return 0;
        }

        foreach (var region in regions)
        {
            try
            {
                long count = _amplification.Find(text[region], region.Start.Value == 0);
                if (count > 0)
                {
                    return count;
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // Linear matching should never get here; if the machine is starved, the other checks still run.
            }
        }

        return 0;
    }
}
