using System.Text;
using Tollgate.Tokenization;

namespace Tollgate.Benchmarks.Tokenization;

/// <summary>
/// Not a benchmark: measures how much one cut moves a count away from the exact count, the bound documented on
/// <see cref="TokenCounter.CountBounded(string?)"/>. First, random single pre-tokens of 257–511 characters over
/// many alphabets, counted with <see cref="TokenCounter.CountBounded(string?)"/> (exactly one cut, at
/// <see cref="TokenCounter.PieceLength"/>): how many cuts moved the count by each amount. Then runs of one
/// character cut at every position, the worst case for the vocabulary's long repeated-character tokens. Run with
/// <c>-- cut-deviation</c>.
/// </summary>
internal static class CutDeviationReport
{
    private const int Trials = 2_000;

    private static readonly (string Name, string Alphabet)[] s_alphabets =
    [
        ("letters a-z", "abcdefghijklmnopqrstuvwxyz"),
        ("letters a-zA-Z", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        ("letters {a,b}", "ab"),
        ("letters {a,e,h}", "aeh"),
        ("vowels", "aeiou"),
        ("accented", "éèàçüöäßñøåæ"),
        ("punctuation", "!\"#$%&()*+,-./:;<=>?@[]^_{|}~"),
        ("punctuation {-,=}", "-="),
        ("whitespace { ,\\t}", " \t"),
        ("one of a, x, -, %, ~, space", "ax-%~ "),
        ("CJK", string.Empty),
        ("emoji", string.Empty),
    ];

    public static void Print(TextWriter output)
    {
        foreach (string encoding in (string[])[TokenEncoding.O200kBase, TokenEncoding.Cl100kBase])
        {
            var counter = TokenCounterRegistry.Shared.Get(encoding);
            var random = new Random(1);
            output.WriteLine($"{encoding}: change of the count at one cut, over {Trials} random single pre-tokens per alphabet");
            foreach ((string name, string alphabet) in s_alphabets)
            {
                var histogram = new SortedDictionary<long, int>();
                for (int trial = 0; trial < Trials; trial++)
                {
                    string text = Create(name, alphabet, random, random.Next(TokenCounter.PieceLength + 1, 2 * TokenCounter.PieceLength));
                    if (counter.Tokenizer.PreTokenizer!.PreTokenize(text).Count() != 1)
                    {
                        continue; // several pre-tokens: not one cut
                    }

                    long delta = counter.CountBounded(text) - counter.Count(text);
                    histogram[delta] = histogram.GetValueOrDefault(delta) + 1;
                }

                string row = histogram.Count == 0
                    ? "never one pre-token (the regex splits it)"
                    : string.Join("  ", histogram.Select(entry => $"{entry.Key:+0;-0;0}: {entry.Value}"));
                output.WriteLine($"  {name,-30} {row}");
            }

            PrintRunsCutAnywhere(output, counter);
        }
    }

    private static void PrintRunsCutAnywhere(TextWriter output, TokenCounter counter)
    {
        const int RunLength = 600;
        long min = 0, max = 0;
        string worst = string.Empty;
        foreach (char c in Enumerable.Range(' ', '~' - ' ' + 1).Select(code => (char)code).Append('\t').Append('é').Append('中'))
        {
            string run = new(c, RunLength);
            int whole = Count(counter, run);
            for (int cut = 1; cut < RunLength; cut++)
            {
                long delta = Count(counter, run.AsSpan(0, cut)) + Count(counter, run.AsSpan(cut)) - whole;
                min = Math.Min(min, delta);
                if (delta > max)
                {
                    (max, worst) = (delta, $"'{c}' cut after {cut}");
                }
            }
        }

        output.WriteLine($"  runs of one character ({RunLength}), cut anywhere: {min:+0;-0;0} to {max:+0;-0;0} (largest: {worst})");
    }

    // One pre-token, counted as the tokenizer counts each of its own pre-tokens.
    private static int Count(TokenCounter counter, ReadOnlySpan<char> text) =>
        counter.Tokenizer.CountTokens(text, considerPreTokenization: false, considerNormalization: false);

    private static string Create(string name, string alphabet, Random random, int length)
    {
        var text = new StringBuilder(length + 1);
        while (text.Length < length)
        {
            if (name == "CJK")
            {
                text.Append((char)random.Next(0x4E00, 0xA000));
            }
            else if (name == "emoji")
            {
                text.Append(char.ConvertFromUtf32(random.Next(0x1F300, 0x1F700)));
            }
            else if (name.StartsWith("one of", StringComparison.Ordinal))
            {
                return new string(alphabet[random.Next(alphabet.Length)], length);
            }
            else
            {
                text.Append(alphabet[random.Next(alphabet.Length)]);
            }
        }

        return text.ToString();
    }
}
