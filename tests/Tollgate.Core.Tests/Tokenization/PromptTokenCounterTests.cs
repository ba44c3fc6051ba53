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

    [Theory]
    [InlineData(TokenEncoding.O200kBase, 0)]
    [InlineData(TokenEncoding.Cl100kBase, 0)]
    [InlineData(TokenEncoding.Cl100kBase, 50)]
    public void CountChat_KnownRoles_CountedOnceAndOtherRolesEveryTime(string encoding, int marginPercent)
    {
        var counter = RecordingTokenizer.Wrap(encoding, out var recorder, marginPercent);
        string[] roles = [.. TokenCounter.KnownRoles, "narrator", "Us\u00e9r"];
        using var body = Parse(new JsonObject
        {
            ["messages"] = new JsonArray([.. roles.Select(role => (JsonNode)new JsonObject { ["role"] = role, ["content"] = "hi" })]),
        });
        PromptTokenCounter.CountChat(body.RootElement, counter);
        recorder.Reset();

        long count = PromptTokenCounter.CountChat(body.RootElement, counter);

        // The same count as every role counted as text; only the unknown roles (and the contents) reach the tokenizer.
        var tokenizer = TokenCounterRegistry.Shared.Get(encoding).Tokenizer;
        long expected = roles.Sum(role => 3 + counter.ApplyMargin(tokenizer.CountTokens(role)) + counter.ApplyMargin(tokenizer.CountTokens("hi"))) + 3;
        Assert.Equal(expected, count);
        Assert.DoesNotContain(recorder.Pieces, piece => TokenCounter.KnownRoles.Contains(piece));
        Assert.Contains("narrator", recorder.Pieces);
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
        var reference = RecordingTokenizer.Wrap(TokenEncoding.Cl100kBase, out _);
        var inputs = new JsonArray();
        var items = new List<string>();
        for (int i = 0; i < 1_000; i++)
        {
            // Each item its own text, so none is a count the counter already knows.
            items.Add($"Item {i:D4}. {TestTexts.Prose}");
            inputs.Add(items[^1]);
        }

        using var body = Parse(new JsonObject { ["input"] = inputs });
        long tenItems = items.Take(10).Sum(reference.CountBounded);
        long elevenItems = tenItems + reference.CountBounded(items[10]);
        long tenLength = items.Take(10).Sum(item => (long)item.Length);

        long count = PromptTokenCounter.CountEmbeddingInput(body.RootElement, counter, stopAfter: tenItems);

        // Ten items fit exactly; the eleventh passes the cap at its first pre-token and the rest are never read.
        Assert.InRange(count, tenItems + 1, elevenItems);
        Assert.InRange(recorder.CharactersCounted, tenLength + 1, tenLength + items[10].Length);
    }

    [Fact]
    public void CountChat_HistorySentAgain_LongMessagesNotTokenizedTwice()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        var history = new JsonArray
        {
            new JsonObject { ["role"] = "user", ["content"] = TestTexts.Prose },
            new JsonObject { ["role"] = "assistant", ["content"] = "Short answer." },
        };
        using var first = Parse(new JsonObject { ["messages"] = history.DeepClone() });
        long firstCount = PromptTokenCounter.CountChat(first.RootElement, counter);
        long firstWork = recorder.CharactersCounted;
        history.Add(new JsonObject { ["role"] = "user", ["content"] = "And the next question?" });
        using var next = Parse(new JsonObject { ["messages"] = history });
        recorder.Reset();

        long nextCount = PromptTokenCounter.CountChat(next.RootElement, counter);

        // The long message's count is known; only the short texts are tokenized again, and the count is unchanged.
        Assert.True(firstWork >= TestTexts.Prose.Length);
        Assert.InRange(recorder.CharactersCounted, 1, 100);
        Assert.Equal(PromptTokenCounter.CountChat(next.RootElement, RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out _)), nextCount);
        Assert.True(nextCount > firstCount);
    }

    [Fact]
    public void CountUpTo_StoppedAtTheCap_PartialCountNotKept()
    {
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        long whole = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out _).CountBounded(TestTexts.Prose);

        long partial = counter.CountUpTo(TestTexts.Prose, 5);
        recorder.Reset();
        long again = counter.CountUpTo(TestTexts.Prose, long.MaxValue);
        long work = recorder.CharactersCounted;
        long known = counter.CountUpTo(TestTexts.Prose, 5);

        Assert.InRange(partial, 6, whole - 1);
        Assert.Equal(whole, again);
        Assert.True(work >= TestTexts.Prose.Length);
        // Known whole: still "more than the cap", and not tokenized a third time.
        Assert.Equal((whole, work), (known, recorder.CharactersCounted));
    }

    [Fact]
    public void CountPrompt_StringsNumbersAndTokenArrays_CountsEach()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        using var body = Parse(new JsonObject { ["prompt"] = new JsonArray("hello world", 42, new JsonArray(1, 2, 3)) });

        Assert.Equal(counter.Count("hello world") + 1 + 3, PromptTokenCounter.CountPrompt(body.RootElement, counter));
    }

    [Fact]
    public void CountPrompt_Suffix_CountedAsInputToo()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        using var body = Parse(new JsonObject { ["prompt"] = "def area(r):", ["suffix"] = TestTexts.Code });

        Assert.Equal(counter.Count("def area(r):") + counter.Count(TestTexts.Code), PromptTokenCounter.CountPrompt(body.RootElement, counter));
        // Over the cap in the prompt alone, the suffix is not counted.
        using var promptOnly = Parse(new JsonObject { ["prompt"] = "def area(r):" });
        Assert.Equal(PromptTokenCounter.CountPrompt(promptOnly.RootElement, counter, stopAfter: 2), PromptTokenCounter.CountPrompt(body.RootElement, counter, stopAfter: 2));
    }

    [Fact]
    public void CountChat_RefusalAndUnknownParts_CountedByTextAndByJson_FilePartsLeftToTheDocumentReservation()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        var unknown = new JsonObject { ["type"] = "x-attachment", ["payload"] = TestTexts.Prose };
        using var body = Parse(new JsonObject
        {
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "assistant", ["content"] = new JsonArray(new JsonObject { ["type"] = "refusal", ["refusal"] = "I can't." }) },
                new JsonObject
                {
                    ["role"] = "user",
                    ["content"] = new JsonArray(
                        unknown.DeepClone(),
                        new JsonObject { ["type"] = "file", ["file"] = new JsonObject { ["file_data"] = "data:application/pdf;base64," + new string('A', 4000) } }),
                }),
        });

        long count = PromptTokenCounter.CountChat(body.RootElement, counter);

        long expected = 3 + counter.Count("assistant") + counter.Count("I can't.")
            + 3 + counter.Count("user") + counter.Count(unknown.ToJsonString())
            + 3;
        Assert.Equal(expected, count);
    }

    [Fact]
    public void CountChat_PartsToldApartByTheirType_NotByTheMembersTheyCarry()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        var image = new JsonObject { ["url"] = "https://example.test/cat.png" };
        var parts = new JsonArray(
            new JsonObject { ["type"] = "image_url", ["text"] = "", ["image_url"] = image.DeepClone() },
            new JsonObject { ["type"] = "x-attachment", ["text"] = "", ["payload"] = TestTexts.Prose },
            new JsonObject { ["type"] = "text", ["text"] = 5 });
        using var body = Parse(new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = parts.DeepClone() }) });
        using var url = JsonDocument.Parse(image.ToJsonString());

        long count = PromptTokenCounter.CountChat(body.RootElement, counter);

        long expected = 3 + counter.Count("user") + ImageTokenCounter.Count(url.RootElement)
            + counter.Count(parts[1]!.ToJsonString()) + counter.Count(parts[2]!.ToJsonString()) + 3;
        Assert.Equal(expected, count);
    }

    [Fact]
    public void CountResponses_PartsToldApartByTheirType_NotByTheMembersTheyCarry()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        var hidden = new JsonObject { ["type"] = "x-attachment", ["text"] = "", ["payload"] = TestTexts.Prose };
        using var body = Parse(new JsonObject
        {
            ["input"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = "Look:" }, hidden.DeepClone()),
            }),
        });

        long count = PromptTokenCounter.CountResponses(body.RootElement, counter);

        Assert.Equal(3 + counter.Count("user") + counter.Count("Look:") + counter.Count(hidden.ToJsonString()) + 3, count);
    }

    [Fact]
    public void CountChat_StructuredOutputSchemaAndAMessagesRefusal_Counted()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        var format = new JsonObject { ["type"] = "json_schema", ["json_schema"] = new JsonObject { ["name"] = "x", ["schema"] = new JsonObject { ["description"] = TestTexts.Prose } } };
        using var body = Parse(new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "assistant", ["content"] = null, ["refusal"] = "I won't." }),
            ["response_format"] = format.DeepClone(),
        });

        long count = PromptTokenCounter.CountChat(body.RootElement, counter);

        Assert.Equal(3 + counter.Count("assistant") + counter.Count("I won't.") + 3 + counter.Count(format.ToJsonString()), count);
    }

    [Fact]
    public void CountResponses_StructuredOutputSchemaAndACustomToolsOutput_Counted()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        var format = new JsonObject { ["type"] = "json_schema", ["name"] = "x", ["schema"] = new JsonObject { ["description"] = TestTexts.Prose } };
        using var body = Parse(new JsonObject
        {
            ["input"] = new JsonArray(new JsonObject { ["type"] = "custom_tool_call_output", ["call_id"] = "c", ["output"] = TestTexts.Code }),
            ["text"] = new JsonObject { ["format"] = format.DeepClone() },
        });

        long count = PromptTokenCounter.CountResponses(body.RootElement, counter);

        Assert.Equal(3 + counter.Count(TestTexts.Code) + 3 + counter.Count(format.ToJsonString()), count);
    }

    private static JsonDocument Parse(JsonObject body) => JsonDocument.Parse(body.ToJsonString());
}
