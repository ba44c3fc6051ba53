using Tollgate.Tokenization;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorVocabularyTests
{
    public static TheoryData<string> Encodings => new() { TokenEncoding.O200kBase, TokenEncoding.Cl100kBase };

    [Fact]
    public void Words_Always_AreTwoHundredDistinctWordsWithALeadingSpace()
    {
        var words = SimulatorVocabulary.Words;

        Assert.Equal(200, words.Count);
        Assert.Equal(words.Count, words.Distinct(StringComparer.Ordinal).Count());
        Assert.All(words, word => Assert.Matches("^ [a-z]+$", word));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Words_EachWord_IsOneToken(string encoding)
    {
        var counter = TokenCounterRegistry.Shared.Get(encoding);

        Assert.All(SimulatorVocabulary.Words, word => Assert.Equal(1, counter.Count(word)));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Words_ConcatenationOfNWords_IsNTokens(string encoding)
    {
        var counter = TokenCounterRegistry.Shared.Get(encoding);
        var random = new SimulatorRandom(42);

        for (int n = 0; n <= 300; n += 7)
        {
            var words = new string[n];
            for (int i = 0; i < n; i++)
            {
                words[i] = SimulatorVocabulary.Pick(random.Next());
            }

            Assert.Equal(n, counter.Count(string.Concat(words)));
        }

        Assert.Equal(200, counter.Count(string.Concat(SimulatorVocabulary.Words)));
        Assert.Equal(200, counter.Count(string.Concat(SimulatorVocabulary.Words.Reverse())));
    }
}
