using System.Text;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;
using static Tollgate.Core.Tests.Protocol.Translation.TranslationAssert;

namespace Tollgate.Core.Tests.Protocol.Translation;

/// <summary>A chat completions caller over a Messages upstream: the request, the answer and each stream event.</summary>
public sealed class ChatOverMessagesTests
{
    private static readonly FakeTimeProvider s_time = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
    private static readonly ITranslatingProtocol s_protocol = new ChatOverMessages(AnthropicUpstreamProtocol.Instance, s_time);
    private static readonly UpstreamRewrite s_rewrite = new("claude-upstream", null, 512);

    [Fact]
    public void Endpoints_ChatCallerMessagesUpstream()
    {
        Assert.Equal((ApiEndpoint.ChatCompletions, ApiEndpoint.Messages, "messages"),
            (s_protocol.CallerEndpoint, s_protocol.UpstreamEndpoint, s_protocol.PathFor(ApiEndpoint.ChatCompletions)));
        Assert.IsType<ChatOverMessages>(ProtocolTranslations.Find(ApiEndpoint.ChatCompletions, e => e == ApiEndpoint.Messages ? AnthropicUpstreamProtocol.Instance : null));
    }

    [Fact]
    public void WriteRequest_EveryTranslatedField_MessagesBody()
    {
        using var request = Chat("""
            {"model":"gpt-x","stream":true,"stream_options":{"include_usage":true},"temperature":0.3,"top_p":0.8,"stop":"END","user":"u-1",
             "store":false,"metadata":{"a":"b"},"n":1,"logprobs":false,"presence_penalty":0,
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}},
                      {"type":"function","function":{"name":"now"}}],
             "tool_choice":"required","parallel_tool_calls":false,
             "messages":[
               {"role":"system","content":"Be terse."},
               {"role":"developer","content":[{"type":"text","text":"Use metric units."}]},
               {"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/","detail":"low"}},{"type":"image_url","image_url":{"url":"https://x.example/a.png"}}]},
               {"role":"assistant","content":"Checking.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"now","arguments":""}}]},
               {"role":"tool","tool_call_id":"call_1","content":"18C"},
               {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"noon"}]},
               {"role":"user","content":"So?","name":"alice"}
             ]}
            """);

        string body = Written(output => s_protocol.WriteRequest(request, s_rewrite, output));

        SameJson("""
            {"model":"claude-upstream","max_tokens":512,
             "system":[{"type":"text","text":"Be terse."},{"type":"text","text":"Use metric units."}],
             "messages":[
               {"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}},{"type":"image","source":{"type":"url","url":"https://x.example/a.png"}}]},
               {"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},{"type":"tool_use","id":"call_2","name":"now","input":{}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"18C"},{"type":"tool_result","tool_use_id":"call_2","content":"noon"},{"type":"text","text":"So?"}]}
             ],
             "stream":true,"temperature":0.3,"top_p":0.8,"stop_sequences":["END"],
             "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},
                      {"name":"now","input_schema":{"type":"object","properties":{}}}],
             "metadata":{"user_id":"u-1"},
             "tool_choice":{"type":"any","disable_parallel_tool_use":true}}
            """, body);
    }

    [Theory]
    [InlineData("\"auto\"", """{"type":"auto"}""")]
    [InlineData("\"none\"", """{"type":"none"}""")]
    [InlineData("""{"type":"function","function":{"name":"f"}}""", """{"type":"tool","name":"f"}""")]
    public void WriteRequest_ToolChoice_MessagesOwn(string choice, string expected)
    {
        using var request = Chat($$$"""{"model":"m","max_completion_tokens":9,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{{{choice}}},"messages":[{"role":"user","content":"hi"}]}""");

        using var body = System.Text.Json.JsonDocument.Parse(Written(output => s_protocol.WriteRequest(request, s_rewrite, output)));

        SameJson(expected, body.RootElement.GetProperty("tool_choice").GetRawText());
        Assert.Equal(512, body.RootElement.GetProperty("max_tokens").GetInt64());
        Assert.False(body.RootElement.TryGetProperty("max_completion_tokens", out _));
    }

    [Theory]
    [InlineData("\"n\":3", "n")]
    [InlineData("\"logprobs\":true", "logprobs")]
    [InlineData("\"top_logprobs\":2", "top_logprobs")]
    [InlineData("\"logit_bias\":{\"50256\":-100}", "logit_bias")]
    [InlineData("\"temperature\":1.4", "temperature")]
    [InlineData("\"frequency_penalty\":0.5", "frequency_penalty")]
    [InlineData("\"seed\":1", "seed")]
    [InlineData("\"response_format\":{\"type\":\"json_object\"},\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]", "response_format")]
    [InlineData("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"list\",\"schema\":{\"type\":\"array\"}}}", "response_format.json_schema.schema")]
    [InlineData("\"response_format\":{\"type\":\"grammar\"}", "response_format.type")]
    [InlineData("\"reasoning_effort\":\"high\"", "reasoning_effort")]
    [InlineData("\"modalities\":[\"text\",\"audio\"]", "modalities")]
    [InlineData("\"service_tier\":\"flex\"", "service_tier")]
    [InlineData("\"tools\":[{\"type\":\"custom\",\"custom\":{\"name\":\"x\"}}]", "tools.0.type")]
    [InlineData("\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{}}", "tool_choice")]
    public void CheckTranslatable_NoMessagesEquivalent_400NamingTheField(string field, string param)
    {
        using var request = Chat($$$"""{"model":"m",{{{field}}},"messages":[{"role":"user","content":"hi"}]}""");

        var refusal = s_protocol.CheckTranslatable(request);

        Assert.NotNull(refusal);
        Assert.Equal((400, ErrorCodes.ParamNotSupported, param), (refusal!.Status, refusal.Code, refusal.Param));
        Assert.Contains("Anthropic's Messages", refusal.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]""", "messages.1")]
    [InlineData("""[{"role":"function","name":"f","content":"x"},{"role":"user","content":"hi"}]""", "messages.0.role")]
    [InlineData("""[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}]""", "messages.0.content.0.type")]
    [InlineData("""[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AA"}}]}]""", "messages.0.content.0.image_url.url")]
    [InlineData("""[{"role":"user","content":"a"},{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]},{"role":"tool","tool_call_id":"c","content":"x"}]""", "messages.1.tool_calls.0.function.arguments")]
    public void CheckTranslatable_MessagesWithoutAnEquivalent_400NamingWhere(string messages, string param)
    {
        using var request = Chat("""{"model":"m","messages":""" + messages + "}");

        Assert.Equal(param, s_protocol.CheckTranslatable(request)?.Param);
    }

    [Fact]
    public void TranslateResponse_TextThinkingAndToolUse_ChatCompletionWithTheBill()
    {
        using var request = Chat("""{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}""");
        byte[] message = """
            {"id":"msg_01","type":"message","role":"assistant","model":"claude-upstream",
             "content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"Looking"},{"type":"text","text":" now."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],
             "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"cache_read_input_tokens":4,"cache_creation_input_tokens":3,"output_tokens":8}}
            """u8.ToArray();

        byte[] answer = s_protocol.TranslateResponse(message, request, new TranslatedUsage(new TokenUsage(17, 4, 8, 0) { CacheWrite5mTokens = 3 }, 4321, Estimated: false));

        SameJson("""
            {"id":"chatcmpl-msg_01","object":"chat.completion","created":1700000000,"model":"gpt-x",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Looking now.","refusal":null,
               "tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":17,"completion_tokens":8,"total_tokens":25,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":0},"cost_nanousd":4321}}
            """, Encoding.UTF8.GetString(answer));
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData("pause_turn", "stop")]
    [InlineData("model_context_window_exceeded", "length")]
    public void TranslateResponse_StopReason_FinishReason(string stopReason, string finishReason)
    {
        using var request = Chat("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""");
        byte[] message = Encoding.UTF8.GetBytes($$$"""{"id":"msg_1","content":[],"stop_reason":"{{{stopReason}}}","usage":{"input_tokens":1,"output_tokens":0}}""");

        using var answer = System.Text.Json.JsonDocument.Parse(s_protocol.TranslateResponse(message, request, new TranslatedUsage(new TokenUsage(1, 0, 0, 0), 0, Estimated: true)));

        var choice = answer.RootElement.GetProperty("choices")[0];
        Assert.Equal(finishReason, choice.GetProperty("finish_reason").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        Assert.True(answer.RootElement.GetProperty("usage").GetProperty("estimated").GetBoolean());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Stream_EveryEventKind_ChatChunks_UsageChunkOnlyWhenAskedFor(bool includeUsage)
    {
        string options = includeUsage ? ",\"stream_options\":{\"include_usage\":true}" : "";
        using var request = Chat($$$"""{"model":"gpt-x","stream":true{{{options}}},"messages":[{"role":"user","content":"hi"}]}""");
        string[] events =
        [
            """{"type":"message_start","message":{"id":"msg_7","type":"message","role":"assistant","content":[],"usage":{"input_tokens":9,"output_tokens":1}}}""",
            """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"s"}}""",
            """{"type":"content_block_stop","index":0}""",
            """{"type":"ping"}""",
            """{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}""",
            """{"type":"content_block_stop","index":1}""",
            """{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}""",
            """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}""",
            """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":":1}"}}""",
            """{"type":"content_block_stop","index":2}""",
            """{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_2","name":"g","input":{}}}""",
            """{"type":"content_block_stop","index":3}""",
            """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":12}}""",
        ];
        var translator = s_protocol.OpenTranslator(request);
        var reader = s_protocol.OpenStream();

        string stream = Written(output =>
        {
            foreach (string e in events)
            {
                byte[] data = Encoding.UTF8.GetBytes(e);
                translator.Translate(data, reader.ReadEvent(data, null), output);
            }

            translator.Finish(new TranslatedUsage(new TokenUsage(9, 0, 12, 0), 77, Estimated: false), output);
        });

        const string Head = "\"id\":\"chatcmpl-msg_7\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-x\"";
        List<string> expected =
        [
            "{" + Head + ""","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}""",
            "{" + Head + ""","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}""",
            "{" + Head + ""","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"f","arguments":""}}]},"logprobs":null,"finish_reason":null}]}""",
            "{" + Head + ""","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]},"logprobs":null,"finish_reason":null}]}""",
            "{" + Head + ""","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"logprobs":null,"finish_reason":null}]}""",
            "{" + Head + ""","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"toolu_2","type":"function","function":{"name":"g","arguments":""}}]},"logprobs":null,"finish_reason":null}]}""",
            "{" + Head + ""","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}""",
        ];
        if (includeUsage)
        {
            expected.Add("{" + Head + ""","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0},"cost_nanousd":77}}""");
        }

        var chunks = Events(stream);
        Assert.All(chunks, c => Assert.Null(c.Event));
        Assert.Equal(expected.Count, chunks.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            SameJson(expected[i], chunks[i].Data);
        }
    }

    [Fact]
    public void Stream_EndedWithoutMessageDelta_FinishChunkStillSent()
    {
        using var request = Chat("""{"model":"gpt-x","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var translator = s_protocol.OpenTranslator(request);

        string stream = Written(output => translator.Finish(new TranslatedUsage(new TokenUsage(1, 0, 1, 0), 1, Estimated: true), output));

        var chunk = Assert.Single(Events(stream));
        Assert.Contains("\"finish_reason\":\"stop\"", chunk.Data, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteRequest_JsonSchema_TheSchemaAsTheOneToolTheModelMustCall()
    {
        using var request = Chat("""
            {"model":"gpt-x","messages":[{"role":"user","content":"A city?"}],
             "response_format":{"type":"json_schema","json_schema":{"name":"city_answer","description":"A city.","strict":true,
               "schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}}
            """);

        using var body = System.Text.Json.JsonDocument.Parse(Written(output => s_protocol.WriteRequest(request, s_rewrite, output)));

        Assert.Null(s_protocol.CheckTranslatable(request));
        SameJson("""
            [{"name":"city_answer","description":"A city. Answer by calling this tool: its input is the whole answer, as JSON.",
              "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}]
            """, body.RootElement.GetProperty("tools").GetRawText());
        SameJson("""{"type":"tool","name":"city_answer"}""", body.RootElement.GetProperty("tool_choice").GetRawText());
        Assert.False(body.RootElement.TryGetProperty("response_format", out _));
    }

    [Fact]
    public void WriteRequest_JsonObject_AnyObjectThroughTheDefaultTool()
    {
        using var request = Chat("""{"model":"gpt-x","tools":[],"messages":[{"role":"user","content":"JSON please"}],"response_format":{"type":"json_object"}}""");

        using var body = System.Text.Json.JsonDocument.Parse(Written(output => s_protocol.WriteRequest(request, s_rewrite, output)));

        Assert.Null(s_protocol.CheckTranslatable(request));
        var tool = Assert.Single(body.RootElement.GetProperty("tools").EnumerateArray());
        Assert.Equal(ChatStructuredOutput.DefaultName, tool.GetProperty("name").GetString());
        SameJson("""{"type":"object"}""", tool.GetProperty("input_schema").GetRawText());
        SameJson("""{"type":"tool","name":"json_response"}""", body.RootElement.GetProperty("tool_choice").GetRawText());
    }

    [Theory]
    [InlineData("tool_use", "stop")]
    [InlineData("max_tokens", "length")]
    public void TranslateResponse_StructuredOutput_TheToolsInputIsTheContent(string stopReason, string finishReason)
    {
        using var request = Chat("""{"model":"gpt-x","messages":[{"role":"user","content":"A city?"}],"response_format":{"type":"json_schema","json_schema":{"name":"city_answer","schema":{"type":"object"}}}}""");
        byte[] message = Encoding.UTF8.GetBytes($$$"""
            {"id":"msg_9","type":"message","role":"assistant","model":"claude-upstream",
             "content":[{"type":"tool_use","id":"toolu_9","name":"city_answer","input":{"city":"Paris"}}],
             "stop_reason":"{{{stopReason}}}","usage":{"input_tokens":10,"output_tokens":8}}
            """);

        byte[] answer = s_protocol.TranslateResponse(message, request, new TranslatedUsage(new TokenUsage(10, 0, 8, 0), 99, Estimated: false));

        using var chat = System.Text.Json.JsonDocument.Parse(answer);
        var choice = chat.RootElement.GetProperty("choices")[0];
        SameJson("""{"city":"Paris"}""", choice.GetProperty("message").GetProperty("content").GetString()!);
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
        Assert.Equal(finishReason, choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void Stream_StructuredOutput_TheToolsInputStreamsAsContent()
    {
        using var request = Chat("""{"model":"gpt-x","stream":true,"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}""");
        string[] events =
        [
            """{"type":"message_start","message":{"id":"msg_8","type":"message","role":"assistant","content":[],"usage":{"input_tokens":9,"output_tokens":1}}}""",
            """{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"json_response","input":{}}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":":1}"}}""",
            """{"type":"content_block_stop","index":0}""",
            """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":5}}""",
        ];
        var translator = s_protocol.OpenTranslator(request);
        var reader = s_protocol.OpenStream();

        string stream = Written(output =>
        {
            foreach (string e in events)
            {
                byte[] data = Encoding.UTF8.GetBytes(e);
                translator.Translate(data, reader.ReadEvent(data, null), output);
            }

            translator.Finish(new TranslatedUsage(new TokenUsage(9, 0, 5, 0), 7, Estimated: false), output);
        });

        var chunks = Events(stream).Select(c => System.Text.Json.JsonDocument.Parse(c.Data).RootElement.GetProperty("choices")[0]).ToList();
        Assert.Equal(4, chunks.Count);
        Assert.Equal("{\"a\":1}", string.Concat(chunks.Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : "")));
        Assert.DoesNotContain(chunks, c => c.GetProperty("delta").TryGetProperty("tool_calls", out _));
        Assert.Equal("stop", chunks[^1].GetProperty("finish_reason").GetString());
    }
}
