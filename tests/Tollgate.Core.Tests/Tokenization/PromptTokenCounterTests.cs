using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Tokenization;

namespace Tollgate.Core.Tests.Tokenization;

public sealed class PromptTokenCounterTests
{
    [Fact]
    public void CountChat_OrdinaryMessages_CountsFramingRolesNamesAndText()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        using var body = Parse(new JsonObject
        {
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = TestTexts.Prose },
                new JsonObject { ["role"] = "user", ["name"] = "ada", ["content"] = TestTexts.Code }),
        });

        long count = PromptTokenCounter.CountChat(body.RootElement, counter);

        long expected = 3 + counter.Count("system") + counter.Count(TestTexts.Prose)
            + 3 + counter.Count("user") + 1 + counter.Count("ada") + counter.Count(TestTexts.Code)
            + 3;
        Assert.Equal(expected, count);
    }

    [Fact]
    public void CountChat_StopAfter_ReturnsAPartialCountOverTheCapAfterBoundedWork()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        var random = new Random(6);
        var messages = new JsonArray();
        for (int i = 0; i < 16; i++)
        {
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = TestTexts.Letters(random, 1 << 16) });
        }

        using var body = Parse(new JsonObject { ["messages"] = messages });
        const long Cap = 2_000;

        long count = PromptTokenCounter.CountChat(body.RootElement, counter, stopAfter: Cap);

        Assert.True(count > Cap);
        Assert.InRange(recorder.CharactersCounted, 1, (Cap + 1) * TokenCounter.PieceLength);
        Assert.True(recorder.CharactersCounted < (1 << 20) / 50, $"{recorder.CharactersCounted} characters tokenized");
    }

    [Fact]
    public void CountChat_StopAfterNotReached_EqualsTheUncappedCount()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.Cl100kBase);
        using var body = Parse(new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = TestTexts.Multilingual }),
            ["tools"] = JsonNode.Parse("[" + TestTexts.MinifiedJson + "]"),
        });
        long uncapped = PromptTokenCounter.CountChat(body.RootElement, counter);

        Assert.Equal(uncapped, PromptTokenCounter.CountChat(body.RootElement, counter, stopAfter: uncapped));
        Assert.True(PromptTokenCounter.CountChat(body.RootElement, counter, stopAfter: uncapped - 1) > uncapped - 1);
    }

    [Fact]
    public void CountEmbeddingInput_StopAfter_DoesNotTokenizeLaterItems()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.Cl100kBase, out var recorder);
        var inputs = new JsonArray();
        for (int i = 0; i < 1_000; i++)
        {
            inputs.Add(TestTexts.Prose);
        }

        using var body = Parse(new JsonObject { ["input"] = inputs });
        long perItem = counter.CountBounded(TestTexts.Prose);
        recorder.Reset();

        long count = PromptTokenCounter.CountEmbeddingInput(body.RootElement, counter, stopAfter: 10 * perItem);

        // Ten items fit exactly; the eleventh passes the cap at its first pre-token and the rest are never read.
        Assert.InRange(count, (10 * perItem) + 1, 11 * perItem);
        Assert.InRange(recorder.CharactersCounted, (10L * TestTexts.Prose.Length) + 1, 11L * TestTexts.Prose.Length);
    }

    [Fact]
    public void CountPrompt_StringsNumbersAndTokenArrays_CountsEach()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        using var body = Parse(new JsonObject { ["prompt"] = new JsonArray("hello world", 42, new JsonArray(1, 2, 3)) });

        Assert.Equal(counter.Count("hello world") + 1 + 3, PromptTokenCounter.CountPrompt(body.RootElement, counter));
    }

    private static JsonDocument Parse(JsonObject body) => JsonDocument.Parse(body.ToJsonString());
}
