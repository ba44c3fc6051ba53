using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;

namespace Tollgate.Core.Tests.Protocol.Translation;

/// <summary>
/// Rows of the Responses → chat completions matrix (docs/api.md, "Translation") one by one: the fields carried over,
/// a hosted tool in <c>tool_choice</c>, and a refusal and logprobs streamed back as Responses events.
/// </summary>
public sealed class ResponsesToChatRowsTests
{
    private static readonly ResponsesToChatProtocol s_protocol = new(OpenAIUpstreamProtocol.Instance);
    private static readonly TranslatedUsage s_bill = new(new TokenUsage(20, 0, 5, 0), 321, Estimated: false);

    [Fact]
    public void WriteRequest_UserSafetyIdentifierServiceTierAndCacheKey_CarriedOver()
    {
        using var request = ResponsesToChatRequestTests.Read("""
            {"model":"m","input":"x","user":"u-9","safety_identifier":"hash-1","service_tier":"flex","prompt_cache_key":"k-2"}
            """);
        Assert.Null(s_protocol.CheckTranslatable(request));
        var output = new ArrayBufferWriter<byte>();

        s_protocol.WriteRequest(request, new UpstreamRewrite("up", null, 64, "max_tokens"), output);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"model":"up","messages":[{"role":"user","content":"x"}],"user":"u-9","safety_identifier":"hash-1","prompt_cache_key":"k-2","service_tier":"flex","max_tokens":64}
            """), JsonNode.Parse(output.WrittenSpan)), Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("""{"type":"web_search"}""")]
    [InlineData("""{"type":"file_search"}""")]
    [InlineData("""{"type":"mcp","server_label":"deepwiki"}""")]
    public void CheckTranslatable_HostedToolInToolChoice_400NamingToolChoice(string choice)
    {
        using var document = JsonDocument.Parse($$$"""{"model":"m","input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{{{choice}}}}""");

        var refusal = ResponsesTranslationCheck.Check(document.RootElement);

        Assert.NotNull(refusal);
        Assert.Equal((400, ErrorCodes.ParamNotSupported, "tool_choice"), (refusal!.Status, refusal.Code, refusal.Param));
    }

    [Fact]
    public void Translator_RefusalStream_RefusalDeltasAndDoneInTheMessagesRefusalPart()
    {
        using var request = ResponsesToChatRequestTests.Read("""{"model":"m","input":"x","stream":true}""");
        var events = Stream(request,
        [
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""},"finish_reason":null}]}""",
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{"refusal":"I can't"},"finish_reason":null}]}""",
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{"refusal":" help."},"finish_reason":null}]}""",
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
        ]);

        Assert.Equal(
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.refusal.delta", "response.refusal.delta", "response.refusal.done", "response.content_part.done",
            "response.output_item.done", "response.completed",
        ], events.Select(e => e.Type));
        string itemId = events[2].Data.GetProperty("item").GetProperty("id").GetString()!;
        Assert.Equal(("refusal", ""), (events[3].Data.GetProperty("part").GetProperty("type").GetString(), events[3].Data.GetProperty("part").GetProperty("refusal").GetString()));
        Assert.Equal((itemId, 0, 0, "I can't"), (events[4].Data.GetProperty("item_id").GetString(), events[4].Data.GetProperty("output_index").GetInt32(),
            events[4].Data.GetProperty("content_index").GetInt32(), events[4].Data.GetProperty("delta").GetString()));
        Assert.Equal(" help.", events[5].Data.GetProperty("delta").GetString());
        Assert.Equal("I can't help.", events[6].Data.GetProperty("refusal").GetString());
        var final = events[9].Data.GetProperty("response");
        Assert.Equal("completed", final.GetProperty("status").GetString());
        var part = final.GetProperty("output")[0].GetProperty("content")[0];
        Assert.Equal(("refusal", "I can't help."), (part.GetProperty("type").GetString(), part.GetProperty("refusal").GetString()));
        Assert.Equal(321, final.GetProperty("usage").GetProperty("cost_nanousd").GetInt64());
    }

    [Fact]
    public void Translator_LogprobsStream_EachDeltaCarriesItsEntriesAndTheDoneTextAll()
    {
        using var request = ResponsesToChatRequestTests.Read("""{"model":"m","input":"x","stream":true,"top_logprobs":1,"include":["message.output_text.logprobs"]}""");
        var events = Stream(request,
        [
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":{"content":[{"token":"Hi","logprob":-0.5,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.5,"bytes":[72,105]}]}]},"finish_reason":null}]}""",
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{"content":"!"},"logprobs":{"content":[{"token":"!","logprob":-1.25,"bytes":[33],"top_logprobs":[{"token":"!","logprob":-1.25,"bytes":[33]}]}]},"finish_reason":null}]}""",
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
        ]);

        var deltas = events.Where(e => e.Type == "response.output_text.delta").Select(e => e.Data).ToList();
        Assert.Equal(2, deltas.Count);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"token":"Hi","logprob":-0.5,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.5,"bytes":[72,105]}]}]"""),
            JsonNode.Parse(deltas[0].GetProperty("logprobs").GetRawText())), deltas[0].GetRawText());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"token":"!","logprob":-1.25,"bytes":[33],"top_logprobs":[{"token":"!","logprob":-1.25,"bytes":[33]}]}]"""),
            JsonNode.Parse(deltas[1].GetProperty("logprobs").GetRawText())), deltas[1].GetRawText());
        var final = events[^1].Data.GetProperty("response").GetProperty("output")[0].GetProperty("content")[0];
        Assert.Equal("Hi!", final.GetProperty("text").GetString());
        Assert.Equal([-0.5, -1.25], final.GetProperty("logprobs").EnumerateArray().Select(e => e.GetProperty("logprob").GetDouble()));
    }

    private static List<(string Type, JsonElement Data)> Stream(ModelRequest request, string[] chunks)
    {
        var translator = s_protocol.OpenTranslator(request);
        var output = new ArrayBufferWriter<byte>();
        foreach (string chunk in chunks)
        {
            byte[] data = Encoding.UTF8.GetBytes(chunk);
            translator.Translate(data, s_protocol.ReadEvent(data, null), output);
        }

        translator.Finish(s_bill, output);
        var events = new List<(string, JsonElement)>();
        foreach (string sse in Encoding.UTF8.GetString(output.WrittenSpan).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string[] lines = sse.Split('\n');
            events.Add((lines[0]["event: ".Length..], JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement.Clone()));
        }

        return events;
    }
}
