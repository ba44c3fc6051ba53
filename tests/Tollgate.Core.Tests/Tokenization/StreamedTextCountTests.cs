using System.Text;
using Tollgate.Tokenization;

namespace Tollgate.Core.Tests.Tokenization;

public sealed class StreamedTextCountTests
{
    [Fact]
    public void Advance_TextThatCannotPassTheCut_IsNeverTokenized()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        var count = new StreamedTextCount(counter, cutAbove: 80);
        var text = new StringBuilder();

        foreach (string word in Words(16))
        {
            text.Append(word);
            Assert.False(count.Advance(text));
        }

        // 16 words of at most 5 bytes: 80 bytes at most, so at most 80 tokens, never past the cut.
        Assert.Empty(recorder.Pieces);
        Assert.Equal(0, count.Tokens);
    }

    [Fact]
    public void Advance_TheSameWordsInASecondStream_AreCountedWithoutTokenizingThemAgain()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        var words = Words(40).ToList();
        long Stream()
        {
            var count = new StreamedTextCount(counter, cutAbove: 30);
            var text = new StringBuilder();
            foreach (string word in words)
            {
                text.Append(word);
                if (count.Advance(text))
                {
                    break;
                }
            }

            return count.Tokens;
        }

        long first = Stream();
        Assert.NotEmpty(recorder.Pieces);
        recorder.Reset();

        long second = Stream();

        Assert.Empty(recorder.Pieces);
        Assert.Equal(first, second);
        Assert.True(second > 30);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(13)]
    [InlineData(100)]
    public void Advance_OrdinaryText_PastTheCutAtTheSameEventAsAWholeCount(long cutAbove)
    {
        // Each event is a word with its leading space, as models stream them: the pre-tokenizer splits the text at the
        // same places whatever the batches, so the batched count is the whole count, and the cut falls on the event
        // where the whole text's count first passes it.
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        var count = new StreamedTextCount(counter, cutAbove);
        var text = new StringBuilder();
        int? cutAt = null;
        int? expectedAt = null;
        var words = Words(400).ToList();
        for (int i = 0; i < words.Count && cutAt is null; i++)
        {
            text.Append(words[i]);
            if (count.Advance(text))
            {
                cutAt = i;
            }

            if (expectedAt is null && TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase).Count(text.ToString()) > cutAbove)
            {
                expectedAt = i;
            }
        }

        Assert.NotNull(cutAt);
        Assert.Equal(expectedAt, cutAt);
        Assert.True(count.PastCut);
        // Each character tokenized at most once.
        Assert.InRange(recorder.CharactersCounted, 1, text.Length);
    }

    [Theory]
    [InlineData(1, 20)]
    [InlineData(2, 64)]
    [InlineData(3, 150)]
    public void Advance_WordsSplitAcrossEvents_CutWhereCountingEachEventAsItCameFirstPassesIt(int seed, long cutAbove)
    {
        // Events cut the text anywhere, inside words too, as an upstream may: each event counts on its own, so the cut
        // falls on the first event at which the sum of the events' own counts passes it, batches or not.
        var random = new Random(seed);
        string whole = string.Concat(Words(300));
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        var count = new StreamedTextCount(counter, cutAbove);
        var text = new StringBuilder();
        long eventByEvent = 0;
        int? expectedAt = null;
        int? cutAt = null;
        for (int i = 0, at = 0; at < whole.Length && cutAt is null; i++)
        {
            string piece = whole.Substring(at, Math.Min(random.Next(1, 9), whole.Length - at));
            at += piece.Length;
            text.Append(piece);
            eventByEvent += counter.CountBounded(piece);
            if (expectedAt is null && eventByEvent > cutAbove)
            {
                expectedAt = i;
            }

            if (count.Advance(text))
            {
                cutAt = i;
            }
        }

        Assert.NotNull(expectedAt);
        Assert.Equal(expectedAt, cutAt);
    }

    [Fact]
    public void Advance_UnbrokenRunOfOneLetter_WorkBoundedByTheCutNotTheText()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        var count = new StreamedTextCount(counter, cutAbove: 64);
        var text = new StringBuilder();

        text.Append('a', 400_000);
        Assert.True(count.Advance(text));

        Assert.InRange(recorder.CharactersCounted, 1, 65 * TokenCounter.PieceLength);
        // Past the cut, nothing more is tokenized.
        text.Append('a', 400_000);
        long work = recorder.CharactersCounted;
        Assert.True(count.Advance(text));
        Assert.Equal(work, recorder.CharactersCounted);
    }

    [Fact]
    public void Advance_MultiByteText_BoundedByItsUtf8BytesNotItsCharacters()
    {
        // 10 CJK characters are 30 bytes of UTF-8 and may be up to 30 tokens: a cut at 20 must count them, where a
        // bound by characters (10) would wrongly skip the count.
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        var count = new StreamedTextCount(counter, cutAbove: 20);
        var text = new StringBuilder("漢字漢字漢字漢字漢字");

        count.Advance(text);

        Assert.Equal(text.Length, recorder.CharactersCounted);
        Assert.Equal(counter.Count(text.ToString()), count.Tokens);
    }

    private static IEnumerable<string> Words(int n)
    {
        string[] words = [" tide", " moon", " sea", " sand", " rock", " wave", " gull", " reef"];
        for (int i = 0; i < n; i++)
        {
            yield return words[i % words.Length];
        }
    }
}
