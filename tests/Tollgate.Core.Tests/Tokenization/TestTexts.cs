using System.Text;

namespace Tollgate.Core.Tests.Tokenization;

/// <summary>Ordinary and adversarial text for the token counting tests, deterministic per seed.</summary>
internal static class TestTexts
{
    public const string Prose =
        "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of " +
        "foolishness. The gateway counts every request before it is sent upstream; a caller over budget is " +
        "refused with a 429 and a Retry-After header.\n\nSecond paragraph: numbers like 1,234,567.89 and 2025-01-31, " +
        "contractions (don't, it's, we'll), e-mail me@example.com, and a URL https://example.com/a/b?c=d&e=f.\n";

    public const string Code = """
        public sealed class LedgerWriter : IAsyncDisposable
        {
            private readonly Channel<AuditRecord> _queue = Channel.CreateBounded<AuditRecord>(new BoundedChannelOptions(10_000));

            public async ValueTask DisposeAsync()
            {
                _queue.Writer.TryComplete();
                await _drain.ConfigureAwait(false); // flush what is left
            }
        }
        // ------------------------------------------------------------------------------------------
        def fib(n):\n\treturn n if n < 2 else fib(n - 1) + fib(n - 2)
        """;

    public const string MinifiedJson =
        """{"type":"function","function":{"name":"get_weather","description":"Get the current weather for a city.","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name, e.g. Paris"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"],"additionalProperties":false},"strict":true}}""";

    public const string Multilingual =
        "Le pétrole coûte cher. Ça va? Größenwahn und Übermut. 東京は日本の首都です。人口は約1400万人です。" +
        "Привет, мир! مرحبا بالعالم. नमस्ते दुनिया। 🙂 👍🏽 family: 👨‍👩‍👧‍👦. Café vs cafe\u0301.";

    public const string SpecialTokens = "Hello<|endoftext|>world <|endoftext|> again";

    private const string WordAlphabet = "etaoinshrdlucmfwypvbgkqjxzETAOINSHRDLU";

    /// <summary>Random "ordinary" text: words, numbers, punctuation, spaces, tabs and newlines, never a long unbroken run.</summary>
    public static string RandomOrdinary(Random random, int length)
    {
        string[] separators = [" ", " ", " ", ", ", ". ", "\n", "\n\n", "\t", "  ", " - ", "; ", "(", ") ", "\r\n"];
        var text = new StringBuilder(length + 64);
        while (text.Length < length)
        {
            switch (random.Next(10))
            {
                case 0:
                    text.Append(random.Next(0, 1_000_000));
                    break;
                case 1:
                    text.Append("日本語の文章です");
                    break;
                default:
                    int wordLength = random.Next(1, 16);
                    for (int i = 0; i < wordLength; i++)
                    {
                        text.Append(WordAlphabet[random.Next(WordAlphabet.Length)]);
                    }

                    break;
            }

            text.Append(separators[random.Next(separators.Length)]);
        }

        return text.ToString();
    }

    /// <summary>
    /// Random text with at least one run longer than a piece: random letters over a small random alphabet,
    /// one repeated character, CJK, emoji or whitespace, between ordinary words.
    /// </summary>
    public static string RandomUnbroken(Random random, int runLength)
    {
        const string Pool = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!\"#$%&()*+,-./:;<=>?@[]^_{|}~ \téàüß";
        var text = new StringBuilder("prefix words ");
        switch (random.Next(4))
        {
            case 0:
                char[] alphabet = [.. Enumerable.Range(0, random.Next(1, 5)).Select(_ => Pool[random.Next(Pool.Length)])];
                for (int i = 0; i < runLength; i++)
                {
                    text.Append(alphabet[random.Next(alphabet.Length)]);
                }

                break;
            case 1:
                for (int i = 0; i < runLength; i++)
                {
                    text.Append((char)random.Next(0x4E00, 0xA000));
                }

                break;
            case 2:
                while (text.Length < runLength)
                {
                    text.Append(char.ConvertFromUtf32(random.Next(0x1F300, 0x1F700)));
                }

                break;
            default:
                for (int i = 0; i < runLength; i++)
                {
                    text.Append((char)('a' + random.Next(26)));
                }

                break;
        }

        return text.Append(" suffix words.").ToString();
    }

    public static string Letters(Random random, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(26)))]);
}
