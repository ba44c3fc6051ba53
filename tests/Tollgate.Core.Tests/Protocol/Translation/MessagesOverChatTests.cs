using System.Text;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;
using static Tollgate.Core.Tests.Protocol.Translation.TranslationAssert;

namespace Tollgate.Core.Tests.Protocol.Translation;

/// <summary>A Messages caller over a chat completions upstream: the request, the answer and each stream event.</summary>
public sealed class MessagesOverChatTests
{
    private static readonly ITranslatingProtocol s_protocol = new MessagesOverChat(OpenAIUpstreamProtocol.Instance);
    private static readonly UpstreamRewrite s_rewrite = new("upstream-model", null, 300) { ChatCapField = "max_completion_tokens" };

    [Fact]
    public void Endpoints_MessagesCallerChatUpstream()
    {
        Assert.Equal((ApiEndpoint.Messages, ApiEndpoint.ChatCompletions, "chat/completions"),
            (s_protocol.CallerEndpoint, s_protocol.UpstreamEndpoint, s_protocol.PathFor(ApiEndpoint.Messages)));
    }

    [Fact]
    public void Registry_MessagesOverAChatUpstream_IsThisTranslation()
    {
        var found = ProtocolTranslations.Find(ApiEndpoint.Messages, e => e == ApiEndpoint.ChatCompletions ? OpenAIUpstreamProtocol.Instance : null);

        Assert.IsType<MessagesOverChat>(found);
        Assert.Same(found, ProtocolTranslations.Find(ApiEndpoint.Messages, e => e == ApiEndpoint.ChatCompletions ? OpenAIUpstreamProtocol.Instance : null));
    }

    [Fact]
    public void WriteRequest_EveryTranslatedField_ChatBody()
    {
        using var request = Messages("""
            {"model":"claude-x","max_tokens":1000,"stream":true,"temperature":0.2,"top_p":0.9,"top_k":40,"stop_sequences":["END"],
             "metadata":{"user_id":"u-7"},"thinking":{"type":"adaptive"},
             "system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Answer in French."}],
             "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}},"cache_control":{"type":"ephemeral"}}],
             "tool_choice":{"type":"any","disable_parallel_tool_use":true},
             "messages":[
               {"role":"user","content":"Hello"},
               {"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"Let me look."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"18C"},{"type":"image","source":{"type":"url","url":"https://x.example/map.png"}}]},{"type":"text","text":"And a picture:"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
               {"role":"assistant","content":"Nice."},
               {"role":"user","content":[{"type":"text","text":"Thanks","cache_control":{"type":"ephemeral"}}]}
             ]}
            """);

        string body = Written(output => s_protocol.WriteRequest(request, s_rewrite, output));

        SameJson("""
            {"model":"upstream-model",
             "messages":[
               {"role":"system","content":"You are terse.\n\nAnswer in French."},
               {"role":"user","content":"Hello"},
               {"role":"assistant","content":"Let me look.","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","tool_call_id":"toolu_1","content":"18C"},
               {"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x.example/map.png"}},{"type":"text","text":"And a picture:"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
               {"role":"assistant","content":"Nice."},
               {"role":"user","content":"Thanks"}
             ],
             "max_completion_tokens":300,"stream":true,"stream_options":{"include_usage":true},
             "temperature":0.2,"top_p":0.9,"top_k":40,"stop":["END"],"user":"u-7",
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":"required","parallel_tool_calls":false}
            """, body);
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", "\"auto\"")]
    [InlineData("""{"type":"none"}""", "\"none\"")]
    [InlineData("""{"type":"tool","name":"get_weather"}""", """{"type":"function","function":{"name":"get_weather"}}""")]
    public void WriteRequest_ToolChoice_ChatsOwn(string choice, string expected)
    {
        using var request = Messages($$$"""{"model":"m","max_tokens":5,"tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"tool_choice":{{{choice}}},"messages":[{"role":"user","content":"hi"}]}""");

        using var body = System.Text.Json.JsonDocument.Parse(Written(output => s_protocol.WriteRequest(request, s_rewrite with { ChatCapField = "max_tokens" }, output)));

        SameJson(expected, body.RootElement.GetProperty("tool_choice").GetRawText());
        Assert.Equal(300, body.RootElement.GetProperty("max_tokens").GetInt64());
        Assert.False(body.RootElement.TryGetProperty("stream", out _));
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"hi"}]}""", "thinking")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]}""", "messages.0.content.0")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]}""", "messages.1")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}""", "messages.0.content.0.source")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"search_result","source":"s","title":"t","content":[]}]}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"m","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"hi"}]}""", "tools.0.type")]
    [InlineData("""{"model":"m","max_tokens":5,"mcp_servers":[{"type":"url","url":"https://x","name":"x"}],"messages":[{"role":"user","content":"hi"}]}""", "mcp_servers")]
    [InlineData("""{"model":"m","max_tokens":5,"container":"c1","messages":[{"role":"user","content":"hi"}]}""", "container")]
    [InlineData("""{"model":"m","max_tokens":5,"service_tier":"priority","messages":[{"role":"user","content":"hi"}]}""", "service_tier")]
    [InlineData("""{"model":"m","max_tokens":5,"context_management":{"edits":[{"type":"clear_tool_uses_20250919"}]},"messages":[{"role":"user","content":"hi"}]}""", "context_management.edits.0")]
    [InlineData("""{"model":"m","max_tokens":5,"metadata":{"tier":"x"},"messages":[{"role":"user","content":"hi"}]}""", "metadata.tier")]
    public void CheckTranslatable_NoChatEquivalent_400NamingTheField(string body, string param)
    {
        using var request = Messages(body);

        var refusal = s_protocol.CheckTranslatable(request);

        Assert.NotNull(refusal);
        Assert.Equal((400, ErrorCodes.ParamNotSupported, param), (refusal!.Status, refusal.Code, refusal.Param));
        Assert.Contains("OpenAI's chat completions", refusal.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":5,"thinking":{"type":"disabled"},"service_tier":"standard_only","messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"model":"m","max_tokens":5,"thinking":{"type":"adaptive"},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok","is_error":true}]}]}""")]
    public void CheckTranslatable_HintsAndAdaptiveThinking_Translate(string body)
    {
        using var request = Messages(body);

        Assert.Null(s_protocol.CheckTranslatable(request));
    }

    [Fact]
    public void TranslateResponse_TextAndToolCall_MessageWithTheBill()
    {
        using var request = Messages("""{"model":"claude-x","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""");
        byte[] chat = """
            {"id":"chatcmpl-9","object":"chat.completion","created":1,"model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":"Looking.","reasoning_content":"hidden","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":20,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":5}}}
            """u8.ToArray();

        byte[] answer = s_protocol.TranslateResponse(chat, request, new TranslatedUsage(new TokenUsage(20, 5, 9, 0), 1234, Estimated: false));

        SameJson("""
            {"id":"msg_chatcmpl-9","type":"message","role":"assistant","model":"claude-x",
             "content":[{"type":"text","text":"Looking."},{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}],
             "stop_reason":"tool_use","stop_sequence":null,
             "usage":{"input_tokens":15,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,"output_tokens":9,"cost_nanousd":1234}}
            """, Encoding.UTF8.GetString(answer));
    }

    [Theory]
    [InlineData("stop", null, "end_turn", null)]
    [InlineData("length", null, "max_tokens", null)]
    [InlineData("tool_calls", null, "tool_use", null)]
    [InlineData("content_filter", null, "refusal", null)]
    [InlineData("stop", "\"END\"", "stop_sequence", "END")]
    [InlineData("stop", "\"other\"", "end_turn", null)]
    [InlineData("stop", "42", "end_turn", null)]
    public void TranslateResponse_FinishReason_StopReasonAndSequence(string finish, string? matched, string stopReason, string? sequence)
    {
        using var request = Messages("""{"model":"m","max_tokens":100,"stop_sequences":["END"],"messages":[{"role":"user","content":"hi"}]}""");
        string stop = matched is null ? "" : $",\"stop_reason\":{matched}";
        byte[] chat = Encoding.UTF8.GetBytes($$$"""{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"{{{finish}}}"{{{stop}}}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}""");

        using var answer = System.Text.Json.JsonDocument.Parse(s_protocol.TranslateResponse(chat, request, new TranslatedUsage(new TokenUsage(1, 0, 1, 0), 1, true)));

        Assert.Equal(stopReason, answer.RootElement.GetProperty("stop_reason").GetString());
        Assert.Equal(sequence, answer.RootElement.GetProperty("stop_sequence").GetString());
        Assert.True(answer.RootElement.GetProperty("usage").GetProperty("estimated").GetBoolean());
    }

    [Fact]
    public void TranslateResponse_ArgumentsThatAreNotAnObject_EmptyInput()
    {
        using var request = Messages("""{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""");
        byte[] chat = """{"choices":[{"message":{"content":null,"tool_calls":[{"id":"c","function":{"name":"f","arguments":"not json"}}]},"finish_reason":"tool_calls"}]}"""u8.ToArray();

        using var answer = System.Text.Json.JsonDocument.Parse(s_protocol.TranslateResponse(chat, request, default));

        var block = Assert.Single(answer.RootElement.GetProperty("content").EnumerateArray());
        Assert.Equal("{}", block.GetProperty("input").GetRawText());
        Assert.Equal("msg_tollgate", answer.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public void Stream_TextThenTwoToolCalls_MessagesEventsInOrder()
    {
        using var request = Messages("""{"model":"claude-x","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        string[] chunks =
        [
            """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
            """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}""",
            """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}""",
            """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}""",
            """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]},"finish_reason":null}]}""",
            """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":null}]}""",
            """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":null}]}""",
            """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            """{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}}""",
        ];
        var translator = s_protocol.OpenTranslator(request);

        string stream = Written(output =>
        {
            foreach (string chunk in chunks)
            {
                byte[] data = Encoding.UTF8.GetBytes(chunk);
                translator.Translate(data, s_protocol.ReadEvent(data, null), output);
            }

            translator.Finish(new TranslatedUsage(new TokenUsage(12, 2, 7, 0), 99, false), output);
        });

        var events = Events(stream);
        Assert.All(events, e => Assert.Equal(e.Event, System.Text.Json.JsonDocument.Parse(e.Data).RootElement.GetProperty("type").GetString()));
        string[] expected =
        [
            """{"type":"message_start","message":{"id":"msg_chatcmpl-1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}""",
            """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}""",
            """{"type":"content_block_stop","index":0}""",
            """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_a","name":"f","input":{}}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"1}"}}""",
            """{"type":"content_block_stop","index":1}""",
            """{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_b","name":"g","input":{}}}""",
            """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}}""",
            """{"type":"content_block_stop","index":2}""",
            """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":2,"output_tokens":7,"cost_nanousd":99}}""",
        ];
        Assert.Equal(expected.Length, events.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            SameJson(expected[i], events[i].Data);
        }
    }

    [Fact]
    public void Stream_WholeCallsWithoutIndex_OneToolUseBlockEach()
    {
        using var request = Messages("""{"model":"claude-x","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        byte[] data = """{"id":"c","choices":[{"delta":{"role":"assistant","tool_calls":[{"id":"call_a","function":{"name":"f","arguments":"{}"}},{"id":"call_b","function":{"name":"g","arguments":"{\"x\":1}"}}]},"finish_reason":"tool_calls"}]}"""u8.ToArray();
        var translator = s_protocol.OpenTranslator(request);

        string stream = Written(output => translator.Translate(data, default, output));

        var starts = Events(stream).Where(e => e.Event == "content_block_start").Select(e => System.Text.Json.JsonDocument.Parse(e.Data).RootElement.GetProperty("content_block").GetProperty("id").GetString());
        Assert.Equal(["call_a", "call_b"], starts);
        Assert.Equal(2, Events(stream).Count(e => e.Event == "content_block_stop"));
    }

    [Fact]
    public void Stream_NoChunkBeforeTheEnd_StillAWholeMessage()
    {
        using var request = Messages("""{"model":"claude-x","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var translator = s_protocol.OpenTranslator(request);

        string stream = Written(output => translator.Finish(new TranslatedUsage(new TokenUsage(3, 0, 0, 0), 5, Estimated: true), output));

        Assert.Equal(["message_start", "message_delta"], Events(stream).Select(e => e.Event));
        Assert.Contains("\"estimated\":true", stream, StringComparison.Ordinal);
        Assert.Contains("\"stop_reason\":\"end_turn\"", stream, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_ChunkThatIsNotJson_Skipped()
    {
        using var request = Messages("""{"model":"claude-x","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var translator = s_protocol.OpenTranslator(request);

        string stream = Written(output => translator.Translate("not json"u8, default, output));

        Assert.Equal("", stream);
    }
}
