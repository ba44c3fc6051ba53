using System.Text;

namespace Tollgate.Benchmarks.Inputs;

/// <summary>Deterministic text of a given shape and length (in UTF-16 characters).</summary>
public static class SampleText
{
    private const int Seed = 20_250_101;

    private static readonly string[] s_words =
    [
        "the", "gateway", "counts", "every", "request", "before", "it", "is", "sent", "to", "a", "model", "and",
        "refuses", "those", "that", "would", "exceed", "budget", "of", "caller", "plan", "which", "was", "set",
        "by", "an", "operator", "who", "wants", "predictable", "bills", "for", "each", "team", "in", "company",
        "tokens", "are", "measured", "with", "same", "tokenizer", "provider", "uses", "so", "estimates", "match",
        "invoices", "closely", "when", "stream", "cut", "short", "ledger", "records", "what", "happened", "later",
        "review", "shows", "who", "spent", "how", "much", "on", "models", "during", "month", "reports",
    ];

    /// <summary>Returns <paramref name="length"/> characters of <paramref name="shape"/>.</summary>
    public static string Create(TextShape shape, int length, int seed = Seed)
    {
        var random = new Random(seed);
        return shape switch
        {
            TextShape.Letters => Letters(random, length),
            TextShape.Repeated => new string('a', length),
            TextShape.Unicode => Unicode(random, length),
            TextShape.Base64 => Base64(random, length),
            TextShape.Prose => Prose(random, length),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown shape."),
        };
    }

    private static string Letters(Random random, int length) =>
        string.Create(length, random, static (span, r) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + r.Next(26));
            }
        });

    private static string Base64(Random random, int length)
    {
        byte[] bytes = new byte[(length * 3 / 4) + 3];
        random.NextBytes(bytes);
        return Convert.ToBase64String(bytes)[..length];
    }

    private static string Unicode(Random random, int length)
    {
        var text = new StringBuilder(length + 8);
        while (text.Length < length)
        {
            int run = random.Next(64, 4097);
            int kind = random.Next(3);
            for (int i = 0; i < run && text.Length < length; i++)
            {
                switch (kind)
                {
                    case 0:
                        text.Append((char)random.Next(0x4E00, 0xA000));
                        break;
                    case 1:
                        text.Append(char.ConvertFromUtf32(random.Next(0x1F300, 0x1F700)));
                        break;
                    default:
                        text.Append((char)('a' + random.Next(26))).Append((char)random.Next(0x0300, 0x0370));
                        break;
                }
            }
        }

        // Never end on half a surrogate pair.
        int end = char.IsHighSurrogate(text[length - 1]) ? length - 1 : length;
        return text.ToString(0, end);
    }

    private static string Prose(Random random, int length)
    {
        var text = new StringBuilder(length + 32);
        bool sentenceStart = true;
        while (text.Length < length)
        {
            string word = s_words[random.Next(s_words.Length)];
            if (sentenceStart)
            {
                text.Append(char.ToUpperInvariant(word[0])).Append(word, 1, word.Length - 1);
            }
            else
            {
                text.Append(word);
            }

            int roll = random.Next(100);
            sentenceStart = roll < 10;
            text.Append(roll switch
            {
                < 2 => ".\n\n",
                < 10 => ". ",
                < 16 => ", ",
                _ => " ",
            });
        }

        return text.ToString(0, length);
    }
}
