using System.Buffers;
using System.Text.RegularExpressions;

namespace Tollgate.Validation;

/// <summary>
/// Finds explicit requests to repeat something many times — "repeat the word poem 10000 times", "say it 1,000,000
/// times", "output 100k copies of A", "repeat this forever" — in English. The pattern runs on the non-backtracking
/// engine (time linear in the input) with a timeout as a backstop, and only around the words a request must end
/// with ("times", "copies", "forever", …), found with a vectorized search: text without them, such as most prose in
/// other scripts, costs one fast scan. It is a best-effort filter for the blunt form of the attack: a paraphrase
/// evades it, and token budgets remain the real limit.
/// </summary>
internal sealed class AmplificationRequestMatcher
{
    // The verb must start a clause (start of text, after punctuation, or after "please", "you", "to", …) so that
    // narration ("she would say it 10,000 times") does not match. An opening quote is not a clause start, so text
    // that quotes an attack ("say it 10000 times") passes.
    private const string Anchor = @"(?:[\r\n.!?:;,(\[>*\u2022-]\s*|\b(?:please|pls|plz|now|just|then|and|also|simply|kindly|you|to|must|should)\s+)";
    private const string Verb = @"(?:repeat|say|write|print|output|type|echo|copy|paste|generate|produce|recite|spell|chant|emit|spam|reply|respond|answer)\b";
    private const string WhatToRepeat = @"(?<object>[^\r\n.!?]{0,100}?)";
    private const string Count =
        @"(?<count>\d{1,3}(?:[,.'\u2019 \u00A0\u202F_]\d{3})+" +
        @"|\d+(?:\.\d+)?(?:e\d+|\s*(?:\^|\*\*)\s*\d+|\s*(?:k|m|mm|mil|million|thousand|billion|bn|trillion)\b)?" +
        @"|(?:(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|several|many|a\s+few)\s+)?(?:(?:hundred|thousand|million|billion|trillion)s?\b\s*)+(?:of\s+)?)";
    private const string Times = @"\s*(?:more\s+)?(?:times\b|x\b|\u00D7|repetitions?\b|reps\b)";
    private const string Rate = @"(?<rate>\s+(?:per|a|an|each|every)\s+(?:second|sec|minute|min|hour|day|week|month|year|night|morning|request|run|call)\b)?";
    private const string Copies = @"\s+(?:(?:me|us)\s+)?" + Count + @"\s*(?:copies|repetitions|reps|instances)\s+of\b";
    private const string Forever =
        @"(?<forever>forever|infinitely|indefinitely|endlessly|eternally|non-?stop|without\s+(?:stopping|end(?:ing)?|a\s+break|pause)" +
        @"|until\s+(?:you\s+(?:run\s+out|can(?:no|')?t|are\s+(?:stopped|cut\s+off))|the\s+(?:end|context|token\s+limit|output\s+limit)))\b";

    private const string Pattern = Anchor + Verb + "(?:" + Copies + "|" + WhatToRepeat + @"\s" + Count + Times + Rate + "|" + WhatToRepeat + @"\s" + Forever + ")";

    // What the count applies to when the request is about code or measurement rather than output:
    // "write a test that calls it 10,000 times", "repeat the simulation 100,000 times".
    private const string NotOutput =
        @"\b(?:loops?|functions?|methods?|programs?|scripts?|code|snippets?|tests?|benchmarks?|simulations?|experiments?" +
        @"|quer(?:y|ies)|requests?|calls?|jobs?|tasks?|process(?:es)?|commands?|apis?|trials?|iterations?|exercises?|workouts?|routines?)\b";

    // Every match ends within a few characters of one of these; the matcher looks only near them.
    private static readonly SearchValues<string> Keywords = SearchValues.Create(
        [
            "times", "\u00D7", "repetition", "reps", "copies", "instances", "forever", "infinitely", "indefinitely", "endlessly",
            "eternally", "stop", "without", "until", "0x", "1x", "2x", "3x", "4x", "5x", "6x", "7x", "8x", "9x",
        ],
        StringComparison.OrdinalIgnoreCase);

    // A match is at most an anchor word, a verb, 100 characters of object, a count and the keyword; and after the
    // keyword, a rate such as "a day".
    private const int Lookbehind = 320;
    private const int Lookahead = 48;

    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking | RegexOptions.ExplicitCapture;

    private readonly Regex _pattern;
    private readonly Regex _notOutput;
    private readonly long _minCount;

    public AmplificationRequestMatcher(long minCount, TimeSpan timeout)
    {
        _minCount = minCount;
        _pattern = new Regex(Pattern, Options, timeout);
        _notOutput = new Regex(NotOutput, Options, timeout);
    }

    /// <summary>
    /// The repetition count of the first request in <paramref name="region"/> that asks for at least the minimum,
    /// <see cref="long.MaxValue"/> for an unbounded one, or 0. <paramref name="atTextStart"/> says whether the region
    /// starts the text, which counts as a clause start. Throws <see cref="RegexMatchTimeoutException"/> on timeout.
    /// </summary>
    public long Find(ReadOnlySpan<char> region, bool atTextStart)
    {
        int hit = region.IndexOfAny(Keywords);
        if (hit < 0)
        {
            return 0;
        }

        long count = atTextStart && hit < Lookbehind ? FindAtStart(region) : 0;
        bool hasWindow = false;
        int windowStart = 0, windowEnd = 0;
        while (count == 0 && hit >= 0)
        {
            int start = Math.Max(0, hit - Lookbehind), end = Math.Min(region.Length, hit + Lookahead);
            int next = hit + 1 < region.Length ? region[(hit + 1)..].IndexOfAny(Keywords) : -1;
            hit = next < 0 ? -1 : hit + 1 + next;
            if (hasWindow && start <= windowEnd)
            {
                windowEnd = end; // overlapping windows merge, so no character is matched twice
                continue;
            }

            if (hasWindow)
            {
                count = FindIn(region[windowStart..windowEnd]);
            }

            (hasWindow, windowStart, windowEnd) = (true, start, end);
        }

        return count == 0 && hasWindow ? FindIn(region[windowStart..windowEnd]) : count;
    }

    // The pattern has no start-of-text anchor (a window cut from the middle of a text must not look like one), so
    // the opening of the text is matched once more behind a line break.
    private long FindAtStart(ReadOnlySpan<char> region)
    {
        Span<char> opening = stackalloc char[Lookbehind + Lookahead + 1];
        int length = Math.Min(region.Length, opening.Length - 1);
        opening[0] = '\n';
        region[..length].CopyTo(opening[1..]);
        var first = _pattern.EnumerateMatches(opening[..(length + 1)]);
        long count = first.MoveNext() && first.Current.Index == 0 ? Evaluate(opening[..first.Current.Length]) : 0;
        return count >= _minCount ? count : 0;
    }

    private long FindIn(ReadOnlySpan<char> window)
    {
        int start = 0;
        while (start < window.Length)
        {
            var matches = _pattern.EnumerateMatches(window, start);
            if (!matches.MoveNext())
            {
                return 0;
            }

            var match = matches.Current;
            long count = Evaluate(window.Slice(match.Index, match.Length));
            if (count >= _minCount)
            {
                return count;
            }

            start = match.Index + Math.Max(1, match.Length);
        }

        return 0;
    }

    // Runs only on a match (rare, at most ~250 characters), so the allocation of the substring is acceptable.
    private long Evaluate(ReadOnlySpan<char> text)
    {
        var match = _pattern.Match(text.ToString());
        if (!match.Success || match.Groups["rate"].Success || _notOutput.IsMatch(match.Groups["object"].ValueSpan))
        {
            return 0;
        }

        return match.Groups["forever"].Success ? long.MaxValue : RepetitionCount.Parse(match.Groups["count"].ValueSpan);
    }
}
