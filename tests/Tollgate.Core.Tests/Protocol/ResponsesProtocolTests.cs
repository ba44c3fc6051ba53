using System.Buffers;
using System.Text;
using System.Text.Json;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Tokenization;

namespace Tollgate.Core.Tests.Protocol;

/// <summary>The Responses API's reader, scanner and upstream side.</summary>
public sealed class ResponsesProtocolTests
{
    private static readonly TokenCounter s_counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);

    [Fact]
    public void TryRead_ValidBody_ReadsModelStreamAndMaxOutputTokens()
    {
        using var request = Read("""{"model":"m","input":"hi","stream":true,"max_output_tokens":7,"store":false}""");

        Assert.Equal((ApiEndpoint.Responses, "m", true, 7L), (request.Endpoint, request.Model, request.Stream, request.MaxTokens!.Value));
        Assert.Equal("max_output_tokens", request.OutputCapField);
        Assert.False(request.IncludeUsage);
        Assert.Same(ResponsesRequestReader.Instance, request.Reader);
        Assert.Equal(1, request.OutputMultiplier);
    }

    [Theory]
    [InlineData("""{"input":"x"}""", "model", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m"}""", "input", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":[]}""", "input", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":["x"]}""", "input[0]", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":[{"role":"user","content":7}]}""", "input[0].content", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_text"}]}]}""", "input[0].content[0].text", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":[{"type":"function_call_output","call_id":"c"}]}""", "input[0].output", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","instructions":5}""", "instructions", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","max_output_tokens":-1}""", "max_output_tokens", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","stream_options":{}}""", "stream_options", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","tools":{}}""", "tools", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","text":{"format":"json"}}""", "text.format", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","previous_response_id":5}""", "previous_response_id", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","background":true,"stream":true}""", "stream", ErrorCodes.ParamNotAllowed)]
    [InlineData("""{"model":"m","input":"x","background":true,"store":false}""", "store", ErrorCodes.ParamNotAllowed)]
    [InlineData("""{"model":"m","input":"x","background":"yes"}""", "background", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","conversation":7}""", "conversation", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","conversation":{"name":"c"}}""", "conversation", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","prompt":"pmpt_1"}""", "prompt", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","max_tool_calls":0}""", "max_tool_calls", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":"x","tools":[{"type":"namespace","name":"n","tools":[{"type":"function","name":"f"},{"type":"web_search"}]}]}""", "tools[0].tools[1].type", ErrorCodes.ParamNotAllowed)]
    [InlineData("""{"model":"m","input":"x","tools":[{"type":"namespace","name":"n"}]}""", "tools[0].tools", ErrorCodes.InvalidRequest)]
    [InlineData("""{"model":"m","input":[{"type":"item_reference","id":"i"}]}""", "input[0]", ErrorCodes.ParamNotAllowed)]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}""", "input[0].content[0]", ErrorCodes.ParamNotAllowed)]
    [InlineData("""{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"see"},{"type":"input_file","file_id":"f"}]}]}""", "input[0].output[1]", ErrorCodes.ParamNotAllowed)]
    [InlineData("""{"model":"m","input":[{"type":"custom_tool_call_output","call_id":"c","output":[{"type":"input_file","file_url":"https://example.test/a.pdf"}]}]}""", "input[0].output[0]", ErrorCodes.ParamNotAllowed)]
    public void TryRead_WrongOrUnpriceableField_Refuses400NamingIt(string body, string param, string code)
    {
        Assert.False(ResponsesRequestReader.Instance.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal));

        Assert.Null(request);
        Assert.Equal((400, code, param), (refusal!.Status, refusal.Code, refusal.Param));
    }

    [Fact]
    public void TryRead_NullStoredStateFieldsAndBackgroundFalse_Accepted()
    {
        using var request = Read("""{"model":"m","input":"x","previous_response_id":null,"conversation":null,"background":false,"tools":[{"type":"function","name":"f"},{"type":"custom","name":"g"},{"type":"namespace","name":"agents","tools":[{"type":"function","name":"spawn"}]}]}""");

        Assert.Equal("m", request.Model);
        Assert.False(request.Background);
    }

    [Fact]
    public void TryRead_BackgroundStored_AcceptedAndMarked()
    {
        using var request = Read("""{"model":"m","input":"x","background":true,"store":true}""");

        Assert.True(request.Background);
        Assert.False(request.Stream);
    }

    [Fact]
    public void TryRead_ConversationPromptAndHostedTools_RecordedForAdmissionToDecide()
    {
        using var request = Read("""
            {"model":"m","input":"x","conversation":{"id":"conv_1"},"prompt":{"id":"pmpt_1","version":"2"},"max_tool_calls":3,
             "tools":[{"type":"function","name":"f"},{"type":"web_search"},{"type":"file_search","vector_store_ids":["vs_1"]},{"type":"web_search"}]}
            """);

        Assert.True(request.HasConversation);
        Assert.True(request.HasStoredPrompt);
        Assert.True(request.HasUnseenInput);
        Assert.Equal(3L, request.MaxToolCalls);
        Assert.Equal([new HostedToolUse("web_search", "tools[1].type"), new HostedToolUse("file_search", "tools[2].type")], request.HostedTools);
    }

    [Fact]
    public void TryRead_ConversationAsAnId_Recorded()
    {
        using var request = Read("""{"model":"m","input":"x","conversation":"conv_1"}""");

        Assert.True(request.HasConversation);
        Assert.False(request.HasStoredPrompt);
        Assert.Empty(request.HostedTools);
    }

    [Fact]
    public void TryRead_NoStoredStateNoHostedTools_NothingUnseen()
    {
        using var request = Read("""{"model":"m","input":"x","tools":[{"type":"function","name":"f"}]}""");

        Assert.False(request.HasUnseenInput);
        Assert.Empty(request.HostedTools);
        Assert.Null(request.MaxToolCalls);
    }

    [Fact]
    public void ScanResponse_HostedToolCallsInTheOutput_CountedByItemType()
    {
        var scan = ResponsesScanner.ScanResponse("""
            {"id":"resp_1","output":[
              {"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"q","sources":[{"type":"url"}]}},
              {"type":"function_call","id":"fc_1","name":"f","arguments":"{\"type\":\"x_call\"}"},
              {"type":"web_search_call","id":"ws_2","status":"completed"},
              {"type":"file_search_call","id":"fs_1","results":[{"type":"code_interpreter_call"}]},
              {"type":"message","content":[{"type":"output_text","text":"hi"}]}],
             "usage":{"input_tokens":1,"output_tokens":1}}
            """u8, new StringBuilder());

        Assert.Equal(3, scan.ToolCalls!.Total);
        Assert.Equal(new Dictionary<string, long> { ["web_search_call"] = 2, ["file_search_call"] = 1 }, scan.ToolCalls.ByItemType);
    }

    [Fact]
    public void ScanEvent_FinalEventListsCallsAndItemDoneAnnouncesOne()
    {
        var final = ResponsesScanner.ScanEvent("""{"type":"response.completed","response":{"id":"r","output":[{"type":"image_generation_call","id":"ig_1"}],"usage":{"input_tokens":1,"output_tokens":1}}}"""u8, new StringBuilder());
        var done = ResponsesScanner.ScanEvent("""{"item":{"id":"ws_1","type":"web_search_call","status":"completed"},"type":"response.output_item.done","output_index":0}"""u8, null);
        var added = ResponsesScanner.ScanEvent("""{"type":"response.output_item.added","item":{"type":"web_search_call","status":"in_progress"}}"""u8, null);
        var function = ResponsesScanner.ScanEvent("""{"type":"response.output_item.done","item":{"type":"function_call","name":"f"}}"""u8, null);

        Assert.Equal(1, final.ToolCalls!.ByItemType["image_generation_call"]);
        Assert.Equal("web_search_call", done.ToolCallItem);
        Assert.Null(added.ToolCallItem);
        Assert.Null(function.ToolCallItem);
        Assert.Null(ResponsesScanner.ScanResponse("""{"id":"r","output":[{"type":"message"}]}"""u8, null).ToolCalls);
    }

    [Theory]
    [InlineData("""{"id":"r","output":[],"usage":{"input_tokens":1,"output_tokens":1}} {"more":1}""")]
    [InlineData("""{"a":1}{"b":2}""")]
    public void ScanResponse_SomethingAfterTheObject_NotValid(string body)
    {
        // Found by the Responses upstream fuzz: a body of two JSON values was relayed to the caller as a 200.
        Assert.False(ResponsesScanner.ScanResponse(Encoding.UTF8.GetBytes(body), null).Valid);
        Assert.True(ResponsesScanner.ScanResponse("""{"id":"r"} """u8, null).Valid);
    }

    [Fact]
    public void WriteRequest_ToolCallCap_AddsMaxToolCalls()
    {
        using var request = Read("""{"model":"m","input":"hi","tools":[{"type":"web_search"}]}""");
        var output = new ArrayBufferWriter<byte>();

        ResponsesUpstreamProtocol.Instance.WriteRequest(request, new UpstreamRewrite("m", "max_output_tokens", 64) { ToolCallCap = 4 }, output);

        Assert.Equal("""{"model":"m","input":"hi","tools":[{"type":"web_search"}],"max_output_tokens":64,"max_tool_calls":4}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void TryRead_PreviousResponseId_ReadAndHiddenInputAddedToTheCount()
    {
        using var request = Read("""{"model":"m","input":"more","previous_response_id":"resp_7"}""");
        long visible = request.CountInput(s_counter);

        request.HiddenInputTokens = 1000;

        Assert.Equal("resp_7", request.PreviousResponseId);
        Assert.Equal(visible + 1000, request.CountInput(s_counter));
    }

    [Theory]
    [InlineData("""{"type":"response.completed","response":{"id":"r","usage":{"input_tokens":1,"output_tokens":1}}}""", true)]
    [InlineData("""{"type":"response.incomplete","response":{"id":"r","usage":null}}""", true)]
    [InlineData("""{"type":"response.failed","response":{"id":"r"}}""", true)]
    [InlineData("""{"type":"response.in_progress","response":{"id":"r"}}""", false)]
    [InlineData("""{"type":"response.output_text.delta","delta":"x"}""", false)]
    public void ScanEvent_FinalEventsMarkedFinalWhateverTheirUsage(string data, bool final)
    {
        Assert.Equal(final, ResponsesScanner.ScanEvent(Encoding.UTF8.GetBytes(data), null).IsFinal);
        Assert.False(ResponsesScanner.ScanResponse(Encoding.UTF8.GetBytes(data), null).IsFinal);
    }

    [Fact]
    public void FinalEventWithUsage_UsageReplacedByTheBillMarkedEstimated_EverythingElseKept()
    {
        const string Data = """{"type":"response.incomplete","sequence_number":9,"response":{"id":"resp_1","status":"incomplete","usage":null,"output":[{"type":"message","content":[{"type":"output_text","text":"Grüße 🌍 \"quoted\""}]}],"incomplete_details":{"reason":"max_output_tokens"}}}""";
        var bill = new Tollgate.Protocol.Translation.TranslatedUsage(new TokenUsage(12, 0, 5, 0), 4321, Estimated: true);

        byte[] written = ResponsesFinalEvent.WithUsage(Encoding.UTF8.GetBytes(Data), bill)!;

        using var before = JsonDocument.Parse(Data);
        using var after = JsonDocument.Parse(written);
        var response = after.RootElement.GetProperty("response");
        var usage = response.GetProperty("usage");
        Assert.Equal((12L, 5L, 17L, 4321L, true), (usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64(),
            usage.GetProperty("total_tokens").GetInt64(), usage.GetProperty(CostInjector.Field).GetInt64(), usage.GetProperty("estimated").GetBoolean()));
        // Every other member as it came, the text's characters unescaped as the upstream sent them.
        Assert.True(written.AsSpan().IndexOf("Grüße 🌍 \\\"quoted\\\""u8) >= 0);
        Assert.Equal(before.RootElement.GetProperty("sequence_number").GetInt32(), after.RootElement.GetProperty("sequence_number").GetInt32());
        Assert.Equal(before.RootElement.GetProperty("response").GetProperty("output").GetRawText(), response.GetProperty("output").GetRawText());
        Assert.Equal("max_output_tokens", response.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Single(response.EnumerateObject(), p => p.NameEquals("usage"));
        // A final event without a usage member gets one; data that is not an event with a response is left alone.
        using var added = JsonDocument.Parse(ResponsesFinalEvent.WithUsage("""{"type":"response.failed","response":{"id":"r"}}"""u8.ToArray(), bill)!);
        Assert.True(added.RootElement.GetProperty("response").TryGetProperty("usage", out _));
        Assert.Null(ResponsesFinalEvent.WithUsage("""{"type":"response.failed"}"""u8.ToArray(), bill));
        Assert.Null(ResponsesFinalEvent.WithUsage("not json"u8.ToArray(), bill));
    }

    [Fact]
    public void ScanResponseAndFinalEvent_ResponseIdRead()
    {
        Assert.Equal("resp_1", ResponsesScanner.ScanResponse("""{"id":"resp_1","object":"response","output":[],"usage":null}"""u8, null).ResponseId);
        Assert.Equal("resp_2", ResponsesScanner.ScanEvent("""{"type":"response.completed","response":{"id":"resp_2","output":[{"id":"msg_1"}],"usage":{"input_tokens":1,"output_tokens":1}}}"""u8, null).ResponseId);
        Assert.Null(ResponsesScanner.ScanEvent("""{"type":"response.output_text.delta","item_id":"msg_1","delta":"x"}"""u8, null).ResponseId);
    }

    [Fact]
    public void CountInput_StringInput_IsAUserMessagePlusPriming()
    {
        using var request = Read("""{"model":"m","input":"Hello there"}""");

        long expected = 3 + s_counter.Count("user") + s_counter.Count("Hello there") + 3;
        Assert.Equal(expected, request.CountInput(s_counter));
    }

    [Fact]
    public void CountInput_ItemsInstructionsAndTools_CountedAsChatMessages()
    {
        const string Tools = """[{"type":"function","name":"f","parameters":{"type":"object"}}]""";
        using var request = Read($$"""
            {"model":"m","instructions":"Be terse.","tools":{{Tools}},"input":[
              {"role":"user","content":[{"type":"input_text","text":"hi"},{"type":"input_image","image_url":"https://x/a.png","detail":"low"}]},
              {"type":"function_call","call_id":"c","name":"f","arguments":"{}"},
              {"type":"function_call_output","call_id":"c","output":"done"}]}
            """);

        long expected = 3 + s_counter.Count("system") + s_counter.Count("Be terse.")
            + 3 + s_counter.Count("user") + s_counter.Count("hi") + ImageTokenCounter.BaseTokens
            + 3 + s_counter.Count("f") + s_counter.Count("{}")
            + 3 + s_counter.Count("done")
            + 3 + s_counter.Count(Tools);
        Assert.Equal(expected, request.CountInput(s_counter));
    }

    [Fact]
    public void CountInput_StopAfter_StopsEarlyAboveTheCap()
    {
        string items = string.Join(",", Enumerable.Repeat("""{"role":"user","content":"one two three four five"}""", 200));
        using var request = Read($$"""{"model":"m","input":[{{items}}]}""");

        long whole = request.CountInput(s_counter);
        long stopped = request.CountInput(s_counter, stopAfter: 50);

        Assert.True(stopped > 50);
        Assert.True(stopped < whole);
    }

    [Fact]
    public void InputText_CollectsInstructionsMessagesAndOutputs()
    {
        using var request = Read("""{"model":"m","instructions":"rules","input":[{"role":"user","content":[{"type":"input_text","text":"question"}]},{"type":"function_call_output","call_id":"c","output":"answer"}]}""");

        string text = request.InputText();

        Assert.Contains("rules", text, StringComparison.Ordinal);
        Assert.Contains("question", text, StringComparison.Ordinal);
        Assert.Contains("answer", text, StringComparison.Ordinal);
        Assert.Equal(text[..9], request.InputText(9));
        Assert.Equal(text, request.InputText(text.Length));
    }

    [Fact]
    public void ScanResponse_UsageAndOutputText_ReadWithCachedAndReasoning()
    {
        const string Body = """{"id":"resp_1","object":"response","status":"completed","error":null,"output":[{"type":"message","content":[{"type":"output_text","text":"Hello world","annotations":[]}]},{"type":"function_call","name":"f","arguments":"{\"a\":1}"}],"usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":4},"output_tokens":9,"output_tokens_details":{"reasoning_tokens":2},"total_tokens":21}}""";
        var generated = new StringBuilder();

        var scan = ResponsesScanner.ScanResponse(Encoding.UTF8.GetBytes(Body), generated);

        Assert.True(scan.Valid);
        Assert.False(scan.IsError);
        Assert.True(scan.UsageIsKnown(outputExpected: true, generated.Length));
        Assert.Equal(new TokenUsage(12, 4, 9, 2), scan.Usage);
        Assert.Contains("Hello world", generated.ToString(), StringComparison.Ordinal);
        Assert.Contains("{\"a\":1}", generated.ToString(), StringComparison.Ordinal);
        Assert.Equal('}', Body[scan.UsageEnd]);
        Assert.EndsWith("\"total_tokens\":21", Body[..scan.UsageEnd], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"input_tokens":5,"output_tokens":"2"}""")]
    [InlineData("""{"input_tokens":5}""")]
    [InlineData("""{"input_tokens":5,"output_tokens":2,"input_tokens_details":{"cached_tokens":6}}""")]
    [InlineData("""{"input_tokens":5,"output_tokens":2,"output_tokens_details":{"reasoning_tokens":3}}""")]
    [InlineData("""{"prompt_tokens":5,"completion_tokens":2}""")]
    [InlineData("7")]
    public void ScanResponse_MalformedUsage_IsUnknown(string usage)
    {
        var scan = ResponsesScanner.ScanResponse(Encoding.UTF8.GetBytes($$"""{"object":"response","output":[],"usage":{{usage}}}"""), new StringBuilder());

        Assert.False(scan.UsageIsKnown(outputExpected: true, 0));
    }

    [Fact]
    public void ScanEvent_Deltas_CollectedButTheFinalCopyIsNot()
    {
        var generated = new StringBuilder();

        ResponsesScanner.ScanEvent("""{"type":"response.output_text.delta","sequence_number":3,"item_id":"m","delta":"Hel"}"""u8, generated);
        ResponsesScanner.ScanEvent("""{"type":"response.function_call_arguments.delta","sequence_number":4,"item_id":"f","delta":"{}"}"""u8, generated);
        ResponsesScanner.ScanEvent("""{"type":"response.output_text.done","sequence_number":5,"text":"Hel"}"""u8, generated);
        var final = ResponsesScanner.ScanEvent("""{"type":"response.completed","sequence_number":6,"response":{"output":[{"type":"message","content":[{"type":"output_text","text":"Hel"}]}],"usage":{"input_tokens":3,"output_tokens":2}}}"""u8, generated);

        Assert.Equal("Hel{}", generated.ToString());
        Assert.True(final.UsageIsKnown(outputExpected: true, generated.Length));
        Assert.Equal(new TokenUsage(3, 0, 2, 0), final.Usage);
        Assert.Equal(0, final.Choices);
    }

    [Fact]
    public void ScanEvent_CreatedWithNullUsage_HasNoUsage()
    {
        var scan = ResponsesScanner.ScanEvent("""{"type":"response.created","sequence_number":0,"response":{"status":"in_progress","usage":null,"error":null}}"""u8, null);

        Assert.True(scan.Valid);
        Assert.False(scan.HasUsage);
        Assert.False(scan.IsError);
    }

    [Theory]
    [InlineData("""{"type":"error","code":"server_error","message":"boom"}""")]
    [InlineData("""{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error"},"usage":null}}""")]
    public void ScanEvent_ErrorOrFailed_IsError(string data)
    {
        Assert.True(ResponsesScanner.ScanEvent(Encoding.UTF8.GetBytes(data), null).IsError);
    }

    [Fact]
    public void UpstreamProtocol_OpenAIKind_ServesResponsesWithItsOwnSide()
    {
        IUpstreamProtocol openAI = OpenAIUpstreamProtocol.Instance;

        var protocol = openAI.ForEndpoint(ApiEndpoint.Responses);

        Assert.Same(ResponsesUpstreamProtocol.Instance, protocol);
        Assert.Same(openAI, openAI.ForEndpoint(ApiEndpoint.ChatCompletions));
        Assert.Equal("responses", protocol.PathFor(ApiEndpoint.Responses));
        Assert.False(protocol.IsEndOfStream("""{"type":"response.completed"}"""u8));
    }

    [Fact]
    public void WriteRequest_Stream_RewritesModelAndCapButAddsNoStreamOptions()
    {
        using var request = Read("""{"model":"alias","stream":true,"input":"hi","max_output_tokens":9000}""");
        var output = new ArrayBufferWriter<byte>();

        ResponsesUpstreamProtocol.Instance.WriteRequest(request, new UpstreamRewrite("gpt-real", "max_output_tokens", 4096), output);

        Assert.Equal("""{"model":"gpt-real","stream":true,"input":"hi","max_output_tokens":4096}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteRequest_NoCapSent_AddsMaxOutputTokens()
    {
        using var request = Read("""{"model":"m","input":"hi"}""");
        var output = new ArrayBufferWriter<byte>();

        ResponsesUpstreamProtocol.Instance.WriteRequest(request, new UpstreamRewrite("m", "max_output_tokens", 1024), output);

        Assert.Equal("""{"model":"m","input":"hi","max_output_tokens":1024}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private static ModelRequest Read(string body)
    {
        Assert.True(ResponsesRequestReader.Instance.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        return request!;
    }
}
