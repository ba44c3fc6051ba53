using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;

namespace Tollgate.Core.Tests.Protocol.Translation;

/// <summary>A Responses request written as the chat completions request that stands for it, and what is refused.</summary>
public sealed class ResponsesToChatRequestTests
{
    private static readonly ResponsesToChatProtocol s_protocol = new(OpenAIUpstreamProtocol.Instance);
    private static readonly JsonSerializerOptions s_relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Fact]
    public void Registry_ResponsesOverChat_ThisTranslation()
    {
        var found = ProtocolTranslations.Find(ApiEndpoint.Responses, e => e == ApiEndpoint.ChatCompletions ? OpenAIUpstreamProtocol.Instance : null);

        var translation = Assert.IsType<ResponsesToChatProtocol>(found);
        Assert.Equal((ApiEndpoint.Responses, ApiEndpoint.ChatCompletions), (translation.CallerEndpoint, translation.UpstreamEndpoint));
        Assert.Equal("chat/completions", translation.PathFor(ApiEndpoint.Responses));
        Assert.Null(ProtocolTranslations.Find(ApiEndpoint.Responses, _ => null));
    }

    [Fact]
    public void WriteRequest_StringInputAndInstructions_SystemThenUserWithTheAdmittedCap()
    {
        var chat = Write("""{"model":"alias","input":"Hello","instructions":"Be brief.","max_output_tokens":50,"temperature":0.2,"top_p":0.9,"store":true,"metadata":{"k":"v"}}""",
            new UpstreamRewrite("upstream-model", null, 50, "max_tokens"));

        Assert.Equal("""
            {"model":"upstream-model","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],"temperature":0.2,"top_p":0.9,"max_tokens":50}
            """, chat.ToJsonString());
    }

    [Fact]
    public void WriteRequest_NoCapSent_TheAdmittedCapInTheModelsChatField()
    {
        var chat = Write("""{"model":"m","input":"x"}""", new UpstreamRewrite("m", "max_output_tokens", 4096, "max_completion_tokens"));

        Assert.Equal(4096, chat["max_completion_tokens"]!.GetValue<long>());
        Assert.Null(chat["max_output_tokens"]);
    }

    [Fact]
    public void WriteRequest_Stream_AlwaysAsksForUsage()
    {
        var chat = Write("""{"model":"m","input":"x","stream":true,"stream_options":{"include_obfuscation":false}}""");

        Assert.True(chat["stream"]!.GetValue<bool>());
        Assert.Equal("""{"include_usage":true}""", chat["stream_options"]!.ToJsonString());
    }

    [Fact]
    public void WriteRequest_Items_MessagesImagesFunctionCallsAndOutputsAsChatMessages()
    {
        var chat = Write("""
            {"model":"m","input":[
              {"type":"message","role":"developer","content":[{"type":"input_text","text":"Rules."},{"type":"input_text","text":"More."}]},
              {"role":"system","content":"Sys."},
              {"role":"user","content":[{"type":"input_text","text":"Look"},{"type":"input_image","image_url":"data:image/png;base64,AA==","detail":"low"}]},
              {"type":"reasoning","id":"rs_1","summary":[]},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
              {"type":"function_call","call_id":"call_1","name":"a","arguments":"{}"},
              {"type":"function_call","call_id":"call_2","name":"b","arguments":"{\"x\":1}","namespace":"ns"},
              {"type":"function_call_output","call_id":"call_1","output":"one"},
              {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"two"},{"type":"input_text","text":"lines"}]},
              {"role":"assistant","content":"Done."},
              {"role":"user","content":"Thanks"}]}
            """);

        Assert.Equal("""
            [{"role":"system","content":"Rules.\nMore."},{"role":"system","content":"Sys."},{"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA==","detail":"low"}}]},{"role":"assistant","content":"Checking.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"a","arguments":"{}"}},{"id":"call_2","type":"function","function":{"name":"b","arguments":"{\"x\":1}"}}]},{"role":"tool","tool_call_id":"call_1","content":"one"},{"role":"tool","tool_call_id":"call_2","content":"two\nlines"},{"role":"assistant","content":"Done."},{"role":"user","content":"Thanks"}]
            """, chat["messages"]!.ToJsonString(s_relaxed));
    }

    [Fact]
    public void WriteRequest_CallsWithoutText_AssistantContentNull()
    {
        var chat = Write("""{"model":"m","input":[{"role":"user","content":"go"},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"ok"}]}""");

        var assistant = chat["messages"]![1]!;
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(assistant.ToJsonString()).RootElement.GetProperty("content").ValueKind);
        Assert.Equal("tool", chat["messages"]![2]!["role"]!.GetValue<string>());
    }

    [Fact]
    public void WriteRequest_FunctionToolsAndNamespace_FlattenedChatTools_ChoiceAndParallelCarriedOver()
    {
        var chat = Write("""
            {"model":"m","input":"x","parallel_tool_calls":false,"tool_choice":{"type":"function","name":"spawn"},
             "tools":[{"type":"function","name":"exec","description":"Run.","strict":false,"parameters":{"type":"object"}},
                      {"type":"namespace","name":"agents","description":"Sub-agents.","tools":[{"type":"function","name":"spawn","parameters":{"type":"object","properties":{}}}]}]}
            """);

        Assert.Equal("""
            [{"type":"function","function":{"name":"exec","description":"Run.","strict":false,"parameters":{"type":"object"}}},{"type":"function","function":{"name":"spawn","parameters":{"type":"object","properties":{}}}}]
            """, chat["tools"]!.ToJsonString());
        Assert.Equal("""{"type":"function","function":{"name":"spawn"}}""", chat["tool_choice"]!.ToJsonString());
        Assert.False(chat["parallel_tool_calls"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("""{"format":{"type":"json_object"}}""", """{"type":"json_object"}""")]
    [InlineData("""{"format":{"type":"json_schema","name":"city","strict":true,"schema":{"type":"object"}}}""", """{"type":"json_schema","json_schema":{"name":"city","strict":true,"schema":{"type":"object"}}}""")]
    [InlineData("""{"format":{"type":"text"}}""", null)]
    public void WriteRequest_TextFormat_ResponseFormat(string text, string? responseFormat)
    {
        var chat = Write($$"""{"model":"m","input":"x","text":{{text}}}""");

        Assert.Equal(responseFormat, chat["response_format"]?.ToJsonString());
    }

    [Fact]
    public void WriteRequest_ReasoningEffortVerbosityAndLogprobs_TheirChatFields_SummaryDropped()
    {
        var chat = Write("""{"model":"m","input":"x","reasoning":{"effort":"low","summary":"auto"},"text":{"verbosity":"low"},"top_logprobs":3,"include":["message.output_text.logprobs","reasoning.encrypted_content"],"prompt_cache_key":"k","client_metadata":{"a":"b"}}""");

        Assert.Equal(("low", "low", true, 3, "k"), (chat["reasoning_effort"]!.GetValue<string>(), chat["verbosity"]!.GetValue<string>(),
            chat["logprobs"]!.GetValue<bool>(), chat["top_logprobs"]!.GetValue<int>(), chat["prompt_cache_key"]!.GetValue<string>()));
        Assert.Null(chat["reasoning"]);
        Assert.Null(chat["include"]);
        Assert.Null(chat["client_metadata"]);
    }

    [Theory]
    [InlineData("""{"previous_response_id":"resp_1"}""", "previous_response_id")]
    [InlineData("""{"background":true}""", "background")]
    [InlineData("""{"truncation":"auto"}""", "truncation")]
    [InlineData("""{"max_tool_calls":2}""", "max_tool_calls")]
    [InlineData("""{"include":["web_search_call.action.sources"]}""", "include[0]")]
    [InlineData("""{"include":["reasoning.encrypted_content","code_interpreter_call.outputs"]}""", "include[1]")]
    [InlineData("""{"tools":[{"type":"custom","name":"apply_patch"}]}""", "tools[0].type")]
    [InlineData("""{"tools":[{"type":"namespace","name":"n","tools":[{"type":"custom","name":"c"}]}]}""", "tools[0].tools[0].type")]
    [InlineData("""{"tools":[{"type":"function","name":"f"},{"type":"function","name":"f"}]}""", "tools[1].name")]
    [InlineData("""{"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[]}}""", "tool_choice")]
    [InlineData("""{"text":{"format":{"type":"grammar"}}}""", "text.format.type")]
    [InlineData("""{"input":[{"type":"custom_tool_call_output","call_id":"c","output":"x"}]}""", "input[0].type")]
    [InlineData("""{"input":[{"role":"tool","content":"x"}]}""", "input[0].role")]
    [InlineData("""{"input":[{"role":"assistant","content":[{"type":"input_image","image_url":"data:,"}]}]}""", "input[0].content[0]")]
    [InlineData("""{"input":[{"role":"user","content":[{"type":"input_image","file_id":"file_1"}]}]}""", "input[0].content[0]")]
    [InlineData("""{"input":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}""", "input[0].content[0]")]
    [InlineData("""{"input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"data:,"}]}]}""", "input[0].output")]
    public void CheckTranslatable_NoChatEquivalent_400ParamNotSupportedNamingTheField(string extra, string param)
    {
        // Checked on the body as parsed (background: true is refused earlier today, by the reader, as param_not_allowed).
        using var document = JsonDocument.Parse(With(extra));

        var error = ResponsesTranslationCheck.Check(document.RootElement);

        Assert.NotNull(error);
        Assert.Equal((400, ErrorCodes.ParamNotSupported, param), (error!.Status, error.Code, error.Param));
    }

    [Theory]
    [InlineData("""{"store":true}""")]
    [InlineData("""{"background":false,"previous_response_id":null,"truncation":"disabled"}""")]
    [InlineData("""{"include":["reasoning.encrypted_content","message.input_image.image_url","message.output_text.logprobs"]}""")]
    [InlineData("""{"reasoning":{"summary":"auto"},"prompt_cache_key":"k","client_metadata":{}}""")]
    [InlineData("""{"tools":[{"type":"function","name":"f"},{"type":"namespace","name":"n","tools":[{"type":"function","name":"g"}]}],"tool_choice":"required"}""")]
    [InlineData("""{"input":[{"type":"reasoning","summary":[]},{"role":"assistant","content":[{"type":"refusal","refusal":"no"}]}]}""")]
    public void CheckTranslatable_StatelessRequest_Translates(string extra)
    {
        using var request = Read(With(extra));

        Assert.Null(s_protocol.CheckTranslatable(request));
    }

    private static string With(string extra)
    {
        var body = JsonNode.Parse("""{"model":"m","input":"x"}""")!.AsObject();
        foreach (var (name, value) in JsonNode.Parse(extra)!.AsObject())
        {
            body[name] = value?.DeepClone();
        }

        return body.ToJsonString();
    }

    private static JsonObject Write(string body, UpstreamRewrite? rewrite = null)
    {
        using var request = Read(body);
        var output = new ArrayBufferWriter<byte>();
        s_protocol.WriteRequest(request, rewrite ?? new UpstreamRewrite("m", null, 0), output);
        return JsonNode.Parse(output.WrittenSpan)!.AsObject();
    }

    internal static ModelRequest Read(string body)
    {
        Assert.True(ResponsesRequestReader.Instance.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        return request!;
    }
}
