using Tollgate.Tokenization;

namespace Tollgate.Core.Tests.Tokenization;

public sealed class TokenCounterBoundedTests
{
    private const int Piece = TokenCounter.PieceLength;

    public static TheoryData<string, string> OrdinaryTexts()
    {
        var data = new TheoryData<string, string>();
        foreach (string encoding in (string[])[TokenEncoding.O200kBase, TokenEncoding.Cl100kBase])
        {
            foreach (string text in (string[])[TestTexts.Prose, TestTexts.Code, TestTexts.MinifiedJson, TestTexts.Multilingual, TestTexts.SpecialTokens])
            {
                data.Add(encoding, text);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OrdinaryTexts))]
    public void CountBounded_OrdinaryText_EqualsExactCount(string encoding, string text)
    {
        var counter = TokenCounterRegistry.Shared.Get(encoding);

        Assert.Equal(counter.Count(text), counter.CountBounded(text));
        Assert.Equal(counter.Count(text), counter.CountBounded(text.AsSpan()));
    }

    [Theory]
    [InlineData(TokenEncoding.O200kBase)]
    [InlineData(TokenEncoding.Cl100kBase)]
    public void CountBounded_RandomOrdinaryText_EqualsExactCountAndIsNeverCut(string encoding)
    {
        var counter = RecordingTokenizer.Wrap(encoding, out var recorder);
        var exact = TokenCounterRegistry.Shared.Get(encoding);
        var random = new Random(1);

        for (int i = 0; i < 200; i++)
        {
            string text = TestTexts.RandomOrdinary(random, random.Next(1, 4_000));
            recorder.Reset();

            Assert.Equal(exact.Count(text), counter.CountBounded(text));
            Assert.Equal(PreTokenCount(counter, text), recorder.Pieces.Count);
        }
    }

    // Measured bound (see TokenCounter.CountBounded): each cut moves the count by −2 to +5 tokens.
    [Theory]
    [InlineData(TokenEncoding.O200kBase)]
    [InlineData(TokenEncoding.Cl100kBase)]
    public void CountBounded_LongUnbrokenRuns_StaysWithinMeasuredBoundPerCut(string encoding)
    {
        var counter = RecordingTokenizer.Wrap(encoding, out var recorder);
        var exact = TokenCounterRegistry.Shared.Get(encoding);
        var random = new Random(2);
        long cutsSeen = 0;

        for (int i = 0; i < 150; i++)
        {
            string text = TestTexts.RandomUnbroken(random, random.Next(Piece + 1, 5 * Piece));
            recorder.Reset();

            long bounded = counter.CountBounded(text);
            int cuts = recorder.Pieces.Count - PreTokenCount(counter, text);
            int expected = exact.Count(text);

            cutsSeen += cuts;
            Assert.InRange(bounded, expected - (2L * cuts), expected + (5L * cuts));
        }

        Assert.True(cutsSeen > 150, $"the inputs should need cutting; {cutsSeen} cuts");
    }

    [Theory]
    [InlineData(TokenEncoding.O200kBase)]
    [InlineData(TokenEncoding.Cl100kBase)]
    public void CountBounded_AdversarialText_HandsTheTokenizerEachCharacterOnceInBoundedPieces(string encoding)
    {
        var counter = RecordingTokenizer.Wrap(encoding, out var recorder);
        var random = new Random(3);
        string[] texts =
        [
            TestTexts.Letters(random, 1 << 16),
            new string('a', 1 << 16),
            new string(' ', 1 << 16),
            string.Concat(Enumerable.Repeat("😀", 1 << 15)),
            new string([.. Enumerable.Range(0, 1 << 16).Select(_ => (char)random.Next(0x4E00, 0xA000))]),
        ];

        foreach (string text in texts)
        {
            recorder.Reset();

            long count = counter.CountBounded(text);

            // Linear work: every character is tokenized exactly once, in pieces whose merge cost is bounded.
            Assert.True(count > 0);
            Assert.Equal(text.Length, recorder.CharactersCounted);
            Assert.InRange(recorder.LongestPiece, 1, Piece);
        }
    }

    [Fact]
    public void CountBounded_SurrogatePairAtAPieceBoundary_IsNotSplit()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        // One pre-token: the '!' puts every emoji's high surrogate at an odd index, so one lands at index 255.
        string text = "!" + string.Concat(Enumerable.Repeat("🎉", 1_000));

        counter.CountBounded(text);

        Assert.True(recorder.Pieces.Count > 1);
        Assert.All(recorder.Pieces, piece =>
        {
            Assert.False(char.IsHighSurrogate(piece[^1]), "a piece ends inside a surrogate pair");
            Assert.False(char.IsLowSurrogate(piece[0]), "a piece starts inside a surrogate pair");
        });
    }

    [Fact]
    public void CountUpTo_OverTheCap_StopsAfterWorkProportionalToTheCap()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        string text = TestTexts.Letters(new Random(4), 1 << 20);
        const long Cap = 1_000;

        long count = counter.CountUpTo(text, Cap);

        Assert.True(count > Cap);
        // Each piece is at least one token, so at most Cap + 1 pieces are counted before the count passes the cap.
        Assert.InRange(recorder.Pieces.Count, 1, Cap + 1);
        Assert.InRange(recorder.CharactersCounted, 1, (Cap + 1) * Piece);
        Assert.True(recorder.CharactersCounted < text.Length / 100, $"{recorder.CharactersCounted} characters tokenized");
    }

    [Fact]
    public void CountUpTo_OverTheCapInOrdinaryText_StopsEarly()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.Cl100kBase, out var recorder);
        string text = string.Concat(Enumerable.Repeat(TestTexts.Prose, 2_000));

        long count = counter.CountUpTo(text, 500);

        Assert.True(count > 500);
        Assert.InRange(recorder.Pieces.Count, 1, 501);
        Assert.True(recorder.CharactersCounted < text.Length / 100);
    }

    [Theory]
    [InlineData(TokenEncoding.O200kBase)]
    [InlineData(TokenEncoding.Cl100kBase)]
    public void CountUpTo_AtOrUnderTheCap_ReturnsTheFullCount(string encoding)
    {
        var counter = TokenCounterRegistry.Shared.Get(encoding);
        string text = TestTexts.Prose + TestTexts.Letters(new Random(5), 3_000);
        long full = counter.CountBounded(text);

        Assert.Equal(full, counter.CountUpTo(text, full));
        Assert.Equal(full, counter.CountUpTo(text, long.MaxValue));
        Assert.True(counter.CountUpTo(text, full - 1) > full - 1);
    }

    [Fact]
    public void CountUpTo_ApproximateEncoding_ComparesTheCountWithItsMargin()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.Approximate, marginPercent: 50);
        string text = TestTexts.Prose;
        int raw = TokenCounterRegistry.Shared.Get(TokenEncoding.Cl100kBase).Count(text);

        Assert.Equal(counter.Count(text), counter.CountBounded(text));
        Assert.Equal((raw * 3 + 1) / 2, counter.CountBounded(text));
        // Under the cap without the margin, over it with the margin.
        Assert.True(counter.CountUpTo(text, raw) > raw);
    }

    [Fact]
    public void CountUpTo_EmptyOrNull_IsZero()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);

        Assert.Equal(0, counter.CountUpTo((string?)null, 10));
        Assert.Equal(0, counter.CountUpTo(string.Empty, 10));
        Assert.Equal(0, counter.CountUpTo(ReadOnlySpan<char>.Empty, 10));
        Assert.Equal(0, counter.CountBounded((string?)null));
    }

    [Theory]
    [InlineData(TokenEncoding.O200kBase, 0)]
    [InlineData(TokenEncoding.Cl100kBase, 0)]
    [InlineData(TokenEncoding.Cl100kBase, 10)]
    public void CountStreamed_ShortTextAgain_IsTheSameCountWithNothingTokenized(string encoding, int marginPercent)
    {
        var counter = RecordingTokenizer.Wrap(encoding, out var recorder, marginPercent);
        string[] texts = [" there", "!", " questions", ",", "🙂 ok", "日本語のテキスト", "a\u0301bc", new string('x', ShortTextCounts.MaxLength)];
        var first = texts.Select(t => counter.CountStreamed(t)).ToArray();
        Assert.NotEmpty(recorder.Pieces);
        recorder.Reset();

        var again = texts.Select(t => counter.CountStreamed(t)).ToArray();

        Assert.Empty(recorder.Pieces);
        Assert.Equal(first, again);
        Assert.Equal(texts.Select(t => (long)counter.Count(t)), first);
    }

    [Fact]
    public void CountStreamed_TextLongerThanTheShortLimit_IsTokenizedEveryTime()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        string text = new('y', ShortTextCounts.MaxLength + 1);
        Assert.Equal(counter.Count(text), counter.CountStreamed(text));
        recorder.Reset();

        counter.CountStreamed(text);

        Assert.NotEmpty(recorder.Pieces);
    }

    [Fact]
    public void CountUpTo_AShortPromptText_IsNotKept()
    {
        // Prompts are never kept by their text: the same short message is tokenized again.
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        counter.CountUpTo("my pin is 4921", long.MaxValue);
        recorder.Reset();

        counter.CountUpTo("my pin is 4921", long.MaxValue);
        counter.CountUpTo("my pin is 4921".AsSpan(), long.MaxValue);

        Assert.NotEmpty(recorder.Pieces);
    }

    [Fact]
    public void ShortTextCounts_MoreTextsThanItKeeps_StaysBounded()
    {
        var counts = new ShortTextCounts();
        for (int i = 0; i < ShortTextCounts.Capacity * 2 + 5; i++)
        {
            counts.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), i);
            Assert.InRange(counts.Count, 1, ShortTextCounts.Capacity);
        }

        counts.Add(new string('z', ShortTextCounts.MaxLength + 1), 1);
        Assert.False(counts.TryGet(new string('z', ShortTextCounts.MaxLength + 1), out _));
    }

    [Theory]
    [MemberData(nameof(OrdinaryTexts))]
    public void CountUpTo_JsonString_IsTheCountOfItsText(string encoding, string text)
    {
        var counter = TokenCounterRegistry.Shared.Get(encoding);
        // Short pieces (decoded on the stack) and the whole (past the short path), escaped and with raw non-ASCII.
        foreach (string sample in (string[])[text[..Math.Min(text.Length, 40)], text[..Math.Min(text.Length, 255)], text])
        {
            foreach (var options in (System.Text.Json.JsonSerializerOptions[])[new(), new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }])
            {
                using var document = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(sample, options));
                Assert.Equal(counter.CountUpTo(sample, long.MaxValue), counter.CountUpTo(document.RootElement, long.MaxValue));
                Assert.Equal(counter.CountUpTo(sample, 3), counter.CountUpTo(document.RootElement, 3));
            }
        }
    }

    private static int PreTokenCount(TokenCounter counter, string text) =>
        counter.Tokenizer.PreTokenizer!.PreTokenize(text).Count();
}
