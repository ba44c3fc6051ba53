#pragma warning disable OPENAI001 // the Responses client is marked experimental
using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI.Responses;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// <c>POST /v1/responses</c> through the gateway, driven by the official OpenAI .NET client's Responses client and by
/// raw HTTP: every ledger row equals the simulator's bill, plain and streamed, cut and abandoned; refusals come in
/// OpenAI's error envelope.
/// </summary>
public sealed class ResponsesApiTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task CreateResponse_OfficialClient_LedgerMatchesSimulatorBill()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string requestId = ids.Use();

        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            Instructions = "Be brief.",
            InputItems = { ResponseItem.CreateUserMessageItem("Say something [[sim:tokens=21]]") },
        });

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal("responses", bill.Endpoint);
        Assert.Equal(21, bill.CompletionTokens);
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.False(string.IsNullOrWhiteSpace(response.GetOutputText()));
        Assert.Equal(bill.PromptTokens, response.Usage.InputTokenCount);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal("responses", record.Endpoint);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 21, 0), record.Usage);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 21, 150_000, 75_000, 600_000), record.CostNanos);
    }

    [Fact]
    public async Task CreateResponseStreaming_OfficialClient_DeltasArriveAndLedgerMatchesBill()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string requestId = ids.Use();
        var text = new StringBuilder();
        ResponseResult? completed = null;

        await foreach (var update in client.CreateResponseStreamingAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            StreamingEnabled = true,
            InputItems = { ResponseItem.CreateUserMessageItem("Stream a story [[sim:tokens=30]] [[sim:reasoning=4]]") },
        }))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            else if (update is StreamingResponseCompletedUpdate done)
            {
                completed = done.Response;
            }
        }

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal(34, bill.CompletionTokens);
        Assert.NotNull(completed);
        Assert.Equal(text.ToString(), completed!.GetOutputText());
        Assert.Equal(34, completed.Usage.OutputTokenCount);
        Assert.Equal(4, completed.Usage.OutputTokenDetails.ReasoningTokenCount);
        var record = await _gateway.AuditAsync(requestId);
        Assert.True(record.Stream);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 34, 4), record.Usage);
    }

    [Fact]
    public async Task Stream_RawEvents_NamedNumberedNoDoneAndFinalEventCarriesCost()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"input":"raw events [[sim:tokens=6]] [[sim:cached=3]]"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = ResponseEvents(body);
        Assert.DoesNotContain("[DONE]", events);
        var types = events.Select(e => JsonDocument.Parse(e).RootElement.GetProperty("type").GetString()).ToList();
        Assert.Equal("response.created", types[0]);
        Assert.Equal("response.in_progress", types[1]);
        Assert.Equal(6, types.Count(t => t == "response.output_text.delta"));
        Assert.Equal("response.completed", types[^1]);
        Assert.Contains("event: response.completed\ndata: ", body, StringComparison.Ordinal);
        var numbers = events.Select(e => JsonDocument.Parse(e).RootElement.GetProperty("sequence_number").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(0, events.Count), numbers);
        using var last = JsonDocument.Parse(events[^1]);
        var usage = last.RootElement.GetProperty("response").GetProperty("usage");
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(new TokenUsage(bill.PromptTokens, 3, 6, 0), record.Usage);
        Assert.Equal(record.CostNanos, usage.GetProperty("cost_nanousd").GetInt64());
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens - 3, 3, 6, 150_000, 75_000, 600_000), record.CostNanos);
    }

    [Fact]
    public async Task Plain_RawBody_CostAddedToUsageAndHeader()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-large","input":[{"role":"user","content":[{"type":"input_text","text":"plain [[sim:tokens=9]]"}]}]}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal("response", body.RootElement.GetProperty("object").GetString());
        Assert.Equal(record.CostNanos, body.RootElement.GetProperty("usage").GetProperty("cost_nanousd").GetInt64());
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 9, 0), record.Usage);
        Assert.True(response.Headers.Contains("x-tollgate-cost-usd"));
    }

    [Fact]
    public async Task Stream_UpstreamCutMidway_BilledAsSentAndEndsWithResponsesErrorEvent()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"input":"cut me [[sim:tokens=50]] [[sim:cut=5]]"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        var events = ResponseEvents(body);
        using var last = JsonDocument.Parse(events[^1]);
        Assert.Equal("error", last.RootElement.GetProperty("type").GetString());
        Assert.Equal("upstream_error", last.RootElement.GetProperty("code").GetString());
        Assert.Contains("event: error\n", body, StringComparison.Ordinal);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.False(bill.Completed);
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal((bill.PromptTokens, bill.CompletionTokens), (record.Usage.InputTokens, record.Usage.OutputTokens));
        Assert.Equal(5, record.Usage.OutputTokens);
        Assert.Equal("upstream_error", record.Reason);
    }

    [Theory]
    [InlineData("", "[[sim:tokens=17]]", "response.completed", 17L)]
    [InlineData(",\"max_output_tokens\":5", "[[sim:tokens=20]]", "response.incomplete", 5L)]
    public async Task Stream_FinalEventWithoutUsage_EndsWithItCarryingTheEstimateMarkedSo(string cap, string tokens, string finalType, long output)
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, $$"""{"model":"sim-mini","stream":true{{cap}},"input":"[[sim:no_usage]] {{tokens}}"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The upstream's final event is the stream's last, as it came but for its usage: no error after it.
        Assert.DoesNotContain("event: error", body, StringComparison.Ordinal);
        Assert.StartsWith($"event: {finalType}\ndata: ", body[body.LastIndexOf("event: ", StringComparison.Ordinal)..], StringComparison.Ordinal);
        using var last = JsonDocument.Parse(ResponseEvents(body)[^1]);
        Assert.Equal(finalType, last.RootElement.GetProperty("type").GetString());
        var usage = last.RootElement.GetProperty("response").GetProperty("usage");
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal("ok", record.Reason);
        Assert.Equal((bill.PromptTokens, output), (record.Usage.InputTokens, record.Usage.OutputTokens));
        Assert.Equal((record.Usage.InputTokens, output), (usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64()));
        Assert.True(usage.GetProperty("estimated").GetBoolean());
        Assert.Equal(record.CostNanos, usage.GetProperty("cost_nanousd").GetInt64());
    }

    [Fact]
    public async Task MaxOutputTokens_OverThePlan_RefusedNamingItAndUnderIt_ReplyIncomplete()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","max_output_tokens":100000,"input":"long [[sim:tokens=20]]"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("max_output_tokens", body.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("max_tokens_too_large", body.RootElement.GetProperty("error").GetProperty("code").GetString());

        using var capped = ChatCompletionTests.Json(key, """{"model":"sim-mini","max_output_tokens":5,"input":"capped [[sim:tokens=20]]"}""", "/v1/responses");
        using var cappedResponse = await _gateway.Http.SendAsync(capped);
        using var cappedBody = JsonDocument.Parse(await cappedResponse.Content.ReadAsStringAsync());
        Assert.Equal("incomplete", cappedBody.RootElement.GetProperty("status").GetString());
        var record = await _gateway.AuditAsync(cappedResponse.Headers.GetValues("x-request-id").Single());
        Assert.Equal(5, record.Usage.OutputTokens);
        Assert.Equal(5, _gateway.Simulator.Billing.Find(record.RequestId)!.CompletionTokens);
    }

    [Fact]
    public async Task MaxOutputTokens_OverThePlanUnderClamp_ClampedUpstream()
    {
        await using var gateway = await TestGateway.StartAsync(c => c["Plans"]!["basic"]!["OutputCapPolicy"] = "clamp");
        string key = await gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","max_output_tokens":100000,"input":"long [[sim:tokens=20]]"}""", "/v1/responses");

        using var response = await gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4096, body.RootElement.GetProperty("max_output_tokens").GetInt32());
    }

    [Fact]
    public async Task NoMaxOutputTokens_PlanDefaultSentUpstream()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","input":"default cap"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(1024, body.RootElement.GetProperty("max_output_tokens").GetInt32());
    }

    [Theory]
    [InlineData("""{"model":"sim-mini","input":"x","conversation":"conv_1"}""", "conversation")]
    [InlineData("""{"model":"sim-mini","input":"x","prompt":{"id":"pmpt_1"}}""", "prompt")]
    [InlineData("""{"model":"sim-mini","input":"x","background":true,"stream":true}""", "stream")]
    [InlineData("""{"model":"sim-mini","input":"x","tools":[{"type":"web_search"}]}""", "tools[0].type")]
    [InlineData("""{"model":"sim-mini","input":[{"type":"item_reference","id":"msg_1"}]}""", "input[0]")]
    public async Task StateOrFeesTollgateCannotSee_Refused400ParamNotAllowed_NothingForwarded(string json, string param)
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, json, "/v1/responses");
        request.Headers.Add("x-request-id", "refused-" + param.Replace('[', '-').Replace(']', '-'));

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal("param_not_allowed", error.GetProperty("code").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Null(_gateway.Simulator.Billing.Find(response.Headers.GetValues("x-request-id").Single()));
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(0, record.CostNanos);
    }

    [Theory]
    [InlineData("""{"model":"sim-mini"}""", "input")]
    [InlineData("""{"model":"sim-mini","input":42}""", "input")]
    [InlineData("""{"model":"sim-mini","input":"x","max_output_tokens":0}""", "max_output_tokens")]
    [InlineData("""{"model":"sim-mini","input":"x","stream":"yes"}""", "stream")]
    [InlineData("""{"model":"sim-mini","input":[{"role":"user"}]}""", "input[0].content")]
    [InlineData("""{"model":"sim-mini","input":[{"type":"function_call","name":"f","call_id":"c"}]}""", "input[0].arguments")]
    public async Task MalformedRequest_Refused400NamingTheField(string json, string param)
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, json, "/v1/responses"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, body.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task OfficialClient_UnknownPreviousResponse_SurfacesAs404()
    {
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync()).GetResponsesClient();

        var e = await Assert.ThrowsAsync<ClientResultException>(() => client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            PreviousResponseId = "resp_123",
            InputItems = { ResponseItem.CreateUserMessageItem("continue") },
        }));

        Assert.Equal(404, e.Status);
    }

    [Fact]
    public async Task FunctionTool_Required_CallWithSchemaFittingArgumentsBilledExactly()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string requestId = ids.Use();
        var tool = ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString(
            """{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city","days"]}"""), strictModeEnabled: false);

        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            Tools = { tool },
            ToolChoice = ResponseToolChoice.CreateRequiredChoice(),
            InputItems = { ResponseItem.CreateUserMessageItem("What is the weather?") },
        });

        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(response.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        using var arguments = JsonDocument.Parse(call.FunctionArguments);
        Assert.Equal(JsonValueKind.String, arguments.RootElement.GetProperty("city").ValueKind);
        Assert.Equal(JsonValueKind.Number, arguments.RootElement.GetProperty("days").ValueKind);
        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
        Assert.True(record.Usage.OutputTokens > 0);
    }

    [Fact]
    public async Task FunctionTool_Streamed_ArgumentsArriveAsDeltasAndBilledExactly()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """
            {"model":"sim-mini","stream":true,"tool_choice":{"type":"function","name":"lookup"},
             "tools":[{"type":"function","name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}],
             "input":"find it"}
            """, "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        var events = ResponseEvents(body).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        string streamed = string.Concat(events.Where(e => e.GetProperty("type").GetString() == "response.function_call_arguments.delta")
            .Select(e => e.GetProperty("delta").GetString()));
        var done = events.Single(e => e.GetProperty("type").GetString() == "response.function_call_arguments.done");
        Assert.Equal(done.GetProperty("arguments").GetString(), streamed);
        using var arguments = JsonDocument.Parse(streamed);
        Assert.Equal(JsonValueKind.String, arguments.RootElement.GetProperty("q").ValueKind);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
    }

    [Fact]
    public async Task ScriptedTurns_CallThenSay_FollowTheFunctionCallLoop()
    {
        string key = await _gateway.CreateKeyAsync();
        const string Tools = """[{"type":"function","name":"write","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}]""";
        using var first = ChatCompletionTests.Json(key, $$"""{"model":"sim-mini","tools":{{Tools}},"input":"go [[sim:call=write {\"path\":\"a.txt\"}]] [[sim:say=done]]"}""", "/v1/responses");
        using var firstResponse = await _gateway.Http.SendAsync(first);
        using var firstBody = JsonDocument.Parse(await firstResponse.Content.ReadAsStringAsync());
        var call = firstBody.RootElement.GetProperty("output")[0];
        Assert.Equal("function_call", call.GetProperty("type").GetString());
        Assert.Equal("""{"path":"a.txt"}""", call.GetProperty("arguments").GetString());

        string callId = call.GetProperty("call_id").GetString()!;
        using var second = ChatCompletionTests.Json(key, $$"""
            {"model":"sim-mini","tools":{{Tools}},"input":[
              {"role":"user","content":"go [[sim:call=write {\"path\":\"a.txt\"}]] [[sim:say=done]]"},
              {"type":"function_call","call_id":"{{callId}}","name":"write","arguments":"{\"path\":\"a.txt\"}"},
              {"type":"function_call_output","call_id":"{{callId}}","output":"ok"}]}
            """, "/v1/responses");
        using var secondResponse = await _gateway.Http.SendAsync(second);
        using var secondBody = JsonDocument.Parse(await secondResponse.Content.ReadAsStringAsync());

        Assert.Equal("done", secondBody.RootElement.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var record = await _gateway.AuditAsync(secondResponse.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
    }

    [Fact]
    public async Task StructuredOutput_JsonSchema_TextFitsTheSchema()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """
            {"model":"sim-mini","input":"a person","text":{"format":{"type":"json_schema","name":"person","strict":true,
             "schema":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}}}}
            """, "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        string text = body.RootElement.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString()!;
        using var person = JsonDocument.Parse(text);
        Assert.Equal(JsonValueKind.String, person.RootElement.GetProperty("name").ValueKind);
        Assert.Equal(JsonValueKind.Number, person.RootElement.GetProperty("age").ValueKind);
    }

    [Fact]
    public async Task InputCountedByTheGateway_EqualsTheSimulatorsCount()
    {
        // The gateway reserves from its own count of the input; the simulator bills with the same counter, so a
        // request with instructions, messages, a function call and its output, and tools is counted alike.
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """
            {"model":"sim-mini","instructions":"You are terse.","tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],
             "input":[{"role":"user","content":[{"type":"input_text","text":"hello there"}]},
                      {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
                      {"type":"function_call_output","call_id":"c1","output":"result text"},
                      {"role":"assistant","content":[{"type":"output_text","text":"ok"}]},
                      {"role":"user","content":"[[sim:tokens=3]] [[sim:no_usage]]"}]}
            """, "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        _ = await response.Content.ReadAsStringAsync();

        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal(bill.PromptTokens, record.Usage.InputTokens);
        Assert.Equal(3, record.Usage.OutputTokens);
    }

    /// <summary>The data of each event of a Responses stream (each framed as <c>event: type</c> then <c>data: json</c>).</summary>
    internal static List<string> ResponseEvents(string body) =>
    [
        .. body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n').FirstOrDefault(l => l.StartsWith("data: ", StringComparison.Ordinal)))
            .Where(l => l is not null)
            .Select(l => l!["data: ".Length..].Trim()),
    ];
}
