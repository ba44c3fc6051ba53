using System.Buffers;
using System.Text;
using System.Text.Json;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;

namespace Tollgate.Core.Tests.Protocol.Translation;

/// <summary>A chat completion, whole or streamed, written back as the Responses API's object and events.</summary>
public sealed class ChatToResponsesAnswerTests
{
    private static readonly ResponsesToChatProtocol s_protocol = new(OpenAIUpstreamProtocol.Instance);
    private static readonly TranslatedUsage s_bill = new(new TokenUsage(20, 4, 9, 2), 1234, Estimated: false);

    [Fact]
    public void TranslateResponse_TextAndToolCalls_MessageAndFunctionCallItemsWithTheBill()
    {
        using var request = ResponsesToChatRequestTests.Read("""
            {"model":"alias","input":"x","instructions":"Be brief.","max_output_tokens":100,"store":true,
             "tools":[{"type":"namespace","name":"agents","tools":[{"type":"function","name":"spawn"}]},{"type":"function","name":"exec"}]}
            """);
        const string chat = """
            {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"up-model","choices":[{"index":0,
             "message":{"role":"assistant","content":"On it.","refusal":null,"tool_calls":[
               {"id":"call_a","type":"function","function":{"name":"spawn","arguments":"{\"m\":1}"}},
               {"id":"call_b","type":"function","function":{"name":"exec","arguments":"{}"}}]},
             "logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":9}}
            """;

        using var answer = Translate(chat, request, s_bill);

        var root = answer.RootElement;
        Assert.StartsWith("resp_", root.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(("response", 1700000000L, "completed", "up-model", false), (root.GetProperty("object").GetString(), root.GetProperty("created_at").GetInt64(),
            root.GetProperty("status").GetString(), root.GetProperty("model").GetString(), root.GetProperty("store").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("incomplete_details").ValueKind);
        Assert.Equal(("Be brief.", 100), (root.GetProperty("instructions").GetString(), root.GetProperty("max_output_tokens").GetInt32()));
        var output = root.GetProperty("output");
        Assert.Equal(3, output.GetArrayLength());
        Assert.Equal(("message", "assistant", "completed"), (output[0].GetProperty("type").GetString(), output[0].GetProperty("role").GetString(), output[0].GetProperty("status").GetString()));
        Assert.StartsWith("msg_", output[0].GetProperty("id").GetString(), StringComparison.Ordinal);
        var part = output[0].GetProperty("content")[0];
        Assert.Equal(("output_text", "On it."), (part.GetProperty("type").GetString(), part.GetProperty("text").GetString()));
        Assert.Equal(("function_call", "call_a", "spawn", "{\"m\":1}", "agents"), (output[1].GetProperty("type").GetString(), output[1].GetProperty("call_id").GetString(),
            output[1].GetProperty("name").GetString(), output[1].GetProperty("arguments").GetString(), output[1].GetProperty("namespace").GetString()));
        Assert.StartsWith("fc_", output[1].GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.False(output[2].TryGetProperty("namespace", out _));
        Assert.Equal("""{"input_tokens":20,"input_tokens_details":{"cached_tokens":4},"output_tokens":9,"output_tokens_details":{"reasoning_tokens":2},"total_tokens":29,"cost_nanousd":1234}""",
            root.GetProperty("usage").GetRawText());
    }

    [Theory]
    [InlineData("length", "max_output_tokens")]
    [InlineData("content_filter", "content_filter")]
    public void TranslateResponse_CutShort_IncompleteWithItsReason(string finishReason, string reason)
    {
        using var request = ResponsesToChatRequestTests.Read("""{"model":"m","input":"x"}""");

        using var answer = Translate($$"""{"created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"partial"},"finish_reason":"{{finishReason}}"}]}""",
            request, s_bill);

        Assert.Equal(("incomplete", reason), (answer.RootElement.GetProperty("status").GetString(),
            answer.RootElement.GetProperty("incomplete_details").GetProperty("reason").GetString()));
        Assert.Equal("incomplete", answer.RootElement.GetProperty("output")[0].GetProperty("status").GetString());
    }

    [Fact]
    public void TranslateResponse_RefusalLogprobsAndAnEstimate_CarriedOver()
    {
        using var request = ResponsesToChatRequestTests.Read("""{"model":"m","input":"x","top_logprobs":1}""");
        const string chat = """
            {"created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi","refusal":"But no."},
             "logprobs":{"content":[{"token":"Hi","logprob":-0.5,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.5,"bytes":[72,105]}]}]},"finish_reason":"stop"}]}
            """;

        using var answer = Translate(chat, request, s_bill with { Estimated = true });

        var content = answer.RootElement.GetProperty("output")[0].GetProperty("content");
        Assert.Equal("""[{"token":"Hi","logprob":-0.5,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.5,"bytes":[72,105]}]}]""", content[0].GetProperty("logprobs").GetRawText());
        Assert.Equal(("refusal", "But no."), (content[1].GetProperty("type").GetString(), content[1].GetProperty("refusal").GetString()));
        Assert.True(answer.RootElement.GetProperty("usage").GetProperty("estimated").GetBoolean());
    }

    [Fact]
    public void Translator_TextStream_EventsInOpenAIsOrder()
    {
        using var request = ResponsesToChatRequestTests.Read("""{"model":"m","input":"x","stream":true}""");
        var events = Stream(request,
        [
            """{"id":"c","object":"chat.completion.chunk","created":5,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}""",
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}""",
            """{"id":"c","created":5,"model":"up","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
            """{"id":"c","created":5,"model":"up","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":9}}""",
        ]);

        Assert.Equal(
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
            "response.output_item.done", "response.completed",
        ], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(e.Type, e.Data.GetProperty("type").GetString()));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        var created = events[0].Data.GetProperty("response");
        Assert.Equal(("in_progress", 5L, "up", 0), (created.GetProperty("status").GetString(), created.GetProperty("created_at").GetInt64(),
            created.GetProperty("model").GetString(), created.GetProperty("output").GetArrayLength()));
        Assert.Equal(JsonValueKind.Null, created.GetProperty("usage").ValueKind);
        string itemId = events[2].Data.GetProperty("item").GetProperty("id").GetString()!;
        Assert.Equal(("in_progress", 0), (events[2].Data.GetProperty("item").GetProperty("status").GetString(), events[2].Data.GetProperty("output_index").GetInt32()));
        Assert.Equal(("output_text", ""), (events[3].Data.GetProperty("part").GetProperty("type").GetString(), events[3].Data.GetProperty("part").GetProperty("text").GetString()));
        Assert.Equal((itemId, 0, 0, "Hel"), (events[4].Data.GetProperty("item_id").GetString(), events[4].Data.GetProperty("output_index").GetInt32(),
            events[4].Data.GetProperty("content_index").GetInt32(), events[4].Data.GetProperty("delta").GetString()));
        Assert.Equal("Hello", events[6].Data.GetProperty("text").GetString());
        Assert.Equal("Hello", events[7].Data.GetProperty("part").GetProperty("text").GetString());
        Assert.Equal(("completed", "Hello"), (events[8].Data.GetProperty("item").GetProperty("status").GetString(),
            events[8].Data.GetProperty("item").GetProperty("content")[0].GetProperty("text").GetString()));
        var final = events[9].Data.GetProperty("response");
        Assert.Equal((created.GetProperty("id").GetString(), "completed", 1234L), (final.GetProperty("id").GetString(), final.GetProperty("status").GetString(),
            final.GetProperty("usage").GetProperty("cost_nanousd").GetInt64()));
        Assert.Equal(itemId, final.GetProperty("output")[0].GetProperty("id").GetString());
    }

    [Fact]
    public void Translator_TextThenToolCalls_MessageClosedEachCallStreamedIntoItsItem()
    {
        using var request = ResponsesToChatRequestTests.Read("""{"model":"m","input":"x","stream":true,"tools":[{"type":"namespace","name":"ns","tools":[{"type":"function","name":"g"}]},{"type":"function","name":"f"}]}""");
        var events = Stream(request,
        [
            """{"created":5,"model":"up","choices":[{"index":0,"delta":{"content":"Let me."}}]}""",
            """{"created":5,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}}]}""",
            """{"created":5,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}]}""",
            """{"created":5,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"g","arguments":"{}"}}]}}]}""",
            """{"created":5,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}""",
            """{"created":5,"model":"up","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
        ]);

        Assert.Equal(
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done", "response.function_call_arguments.done", "response.output_item.done",
            "response.completed",
        ], events.Select(e => e.Type));
        var firstCall = events[8].Data;
        Assert.Equal((1, "call_1", "f", ""), (firstCall.GetProperty("output_index").GetInt32(), firstCall.GetProperty("item").GetProperty("call_id").GetString(),
            firstCall.GetProperty("item").GetProperty("name").GetString(), firstCall.GetProperty("item").GetProperty("arguments").GetString()));
        Assert.Equal("ns", events[10].Data.GetProperty("item").GetProperty("namespace").GetString());
        Assert.Equal((1, "1}"), (events[12].Data.GetProperty("output_index").GetInt32(), events[12].Data.GetProperty("delta").GetString()));
        Assert.Equal(("f", "{\"a\":1}"), (events[13].Data.GetProperty("name").GetString(), events[13].Data.GetProperty("arguments").GetString()));
        var output = events[^1].Data.GetProperty("response").GetProperty("output");
        Assert.Equal(["message", "function_call", "function_call"], output.EnumerateArray().Select(i => i.GetProperty("type").GetString()));
        Assert.Equal(["{\"a\":1}", "{}"], output.EnumerateArray().Skip(1).Select(i => i.GetProperty("arguments").GetString()));
    }

    [Fact]
    public void Translator_LengthFinish_IncompleteEventWithItsReason()
    {
        using var request = ResponsesToChatRequestTests.Read("""{"model":"m","input":"x","stream":true}""");
        var events = Stream(request,
        [
            """{"created":5,"model":"up","choices":[{"index":0,"delta":{"content":"cut"},"logprobs":{"content":[{"token":"cut","logprob":-1,"bytes":[99,117,116],"top_logprobs":[]}]}}]}""",
            """{"created":5,"model":"up","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}""",
        ]);

        Assert.Equal("response.incomplete", events[^1].Type);
        var final = events[^1].Data.GetProperty("response");
        Assert.Equal(("incomplete", "max_output_tokens", "incomplete"), (final.GetProperty("status").GetString(),
            final.GetProperty("incomplete_details").GetProperty("reason").GetString(), final.GetProperty("output")[0].GetProperty("status").GetString()));
        Assert.Equal(-1, events[4].Data.GetProperty("logprobs")[0].GetProperty("logprob").GetInt32());
    }

    [Fact]
    public void Translator_NoChunkBeforeTheEnd_StillCreatedThenCompleted()
    {
        using var request = ResponsesToChatRequestTests.Read("""{"model":"m","input":"x","stream":true}""");

        var events = Stream(request, []);

        Assert.Equal(["response.created", "response.in_progress", "response.completed"], events.Select(e => e.Type));
        Assert.Equal("m", events[^1].Data.GetProperty("response").GetProperty("model").GetString());
    }

    private static JsonDocument Translate(string chat, ModelRequest request, TranslatedUsage bill) =>
        JsonDocument.Parse(s_protocol.TranslateResponse(Encoding.UTF8.GetBytes(chat), request, bill));

    // Every chunk through one translator, then its end; the SSE events it wrote, each with its event: name and data.
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
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            events.Add((lines[0]["event: ".Length..], JsonDocument.Parse(lines[1]["data: ".Length..]).RootElement));
        }

        return events;
    }
}
