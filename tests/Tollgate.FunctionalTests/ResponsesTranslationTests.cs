#pragma warning disable OPENAI001 // the Responses client is marked experimental
using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI.Responses;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.FunctionalTests;

/// <summary>
/// <c>POST /v1/responses</c> in front of an upstream that speaks only chat completions (the simulator told so with
/// <c>"Apis": ["chat", "completions", "embeddings"]</c>, as a vLLM or Ollama server would be): the official OpenAI .NET
/// client and raw HTTP get Responses objects and events, the upstream gets chat requests, and every ledger row equals
/// the simulator's bill of the chat call. What does not translate is a 400 <c>param_not_supported</c>, never forwarded.
/// </summary>
public sealed class ResponsesTranslationTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(ChatOnly);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    /// <summary>The simulator upstream, speaking only chat completions, legacy completions and embeddings.</summary>
    internal static void ChatOnly(JsonObject config) =>
        config["Upstreams"]!["simulator"]!["Apis"] = new JsonArray("chat", "completions", "embeddings");

    [Fact]
    public async Task CreateResponse_OfficialClient_TranslatedToChat_LedgerMatchesBill()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string requestId = ids.Use();

        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            Instructions = "Be brief.",
            InputItems = { ResponseItem.CreateUserMessageItem("Say something [[sim:tokens=21]] [[sim:cached=4]] [[sim:reasoning=2]]") },
        });

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal("chat/completions", bill.Endpoint);
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        Assert.Equal(21, response.GetOutputText().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal((bill.PromptTokens, 4, 23, 2), (response.Usage.InputTokenCount, response.Usage.InputTokenDetails.CachedTokenCount,
            response.Usage.OutputTokenCount, response.Usage.OutputTokenDetails.ReasoningTokenCount));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(("responses", Decisions.Allowed, UsageSource.Reported), (record.Endpoint, record.Decision, record.UsageSource));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 4, 23, 2), record.Usage);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens - 4, 4, 23, 150_000, 75_000, 600_000), record.CostNanos);
    }

    [Fact]
    public async Task CreateResponseStreaming_OfficialClient_DeltasThenCompletedWithTheBill()
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
        Assert.Equal(("chat/completions", true, 34L), (bill.Endpoint, bill.Stream, bill.CompletionTokens));
        Assert.NotNull(completed);
        Assert.Equal(text.ToString(), completed!.GetOutputText());
        Assert.Equal((34, 4), (completed.Usage.OutputTokenCount, completed.Usage.OutputTokenDetails.ReasoningTokenCount));
        var record = await _gateway.AuditAsync(requestId);
        Assert.True(record.Stream);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 34, 4), record.Usage);
    }

    [Fact]
    public async Task FunctionCallLoop_OfficialClient_CallThenAnswer_EachTurnBilledExactly()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        var weather = ResponseTool.CreateFunctionTool("get_weather",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""), strictModeEnabled: false);
        var options = new CreateResponseOptions
        {
            Model = "sim-mini",
            Tools = { weather },
            InputItems = { ResponseItem.CreateUserMessageItem("""Weather? [[sim:call=get_weather {"city":"Paris"}]] [[sim:say=Sunny in Paris.]]""") },
        };
        string first = ids.Use();

        ResponseResult turn = await client.CreateResponseAsync(options);

        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(turn.OutputItems));
        Assert.Equal(("get_weather", """{"city":"Paris"}"""), (call.FunctionName, call.FunctionArguments.ToString()));
        Assert.StartsWith("call", call.CallId, StringComparison.Ordinal);
        options.InputItems.Add(call);
        options.InputItems.Add(ResponseItem.CreateFunctionCallOutputItem(call.CallId, """{"sky":"clear"}"""));
        string second = ids.Use();
        ResponseResult answer = await client.CreateResponseAsync(options);

        Assert.Equal("Sunny in Paris.", answer.GetOutputText());
        foreach (string requestId in (string[])[first, second])
        {
            var bill = _gateway.Simulator.Billing.Find(requestId)!;
            var record = await _gateway.AuditAsync(requestId);
            Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
        }
    }

    [Fact]
    public async Task PreviousResponseId_OfficialClient_400ParamNotSupported_NothingForwardedOrBilled()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<ClientResultException>(() => client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            PreviousResponseId = "resp_earlier",
            InputItems = { ResponseItem.CreateUserMessageItem("go on") },
        }));

        Assert.Equal(400, e.Status);
        using var body = JsonDocument.Parse(e.GetRawResponse()!.Content.ToString());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal((ErrorCodes.ParamNotSupported, "previous_response_id"), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        Assert.Null(_gateway.Simulator.Billing.Find(requestId));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.ParamNotSupported, 0L), (record.Decision, record.Reason, record.CostNanos));
    }

    [Fact]
    public async Task StoreTrue_AnsweredButNotStored_ItsIdUnknownToRetrieval()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","store":true,"input":"keep this [[sim:tokens=4]]"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        using var retrieve = new HttpRequestMessage(HttpMethod.Get, "/v1/responses/" + body.RootElement.GetProperty("id").GetString());
        retrieve.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var retrieved = await _gateway.Http.SendAsync(retrieve);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(body.RootElement.GetProperty("store").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, retrieved.StatusCode);
    }

    [Fact]
    public async Task Stream_RawEvents_NamedNumberedInOpenAIsOrder_FinalEventCarriesTheBill()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"store":true,"input":"raw events [[sim:tokens=3]] [[sim:cached=2]]"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var events = ResponsesApiTests.ResponseEvents(body).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.Equal(
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
        ], events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.GetProperty("sequence_number").GetInt32()));
        Assert.Contains("event: response.output_text.delta\ndata: ", body, StringComparison.Ordinal);
        string id = events[0].GetProperty("response").GetProperty("id").GetString()!;
        var final = events[^1].GetProperty("response");
        Assert.Equal((id, "completed", false), (final.GetProperty("id").GetString(), final.GetProperty("status").GetString(), final.GetProperty("store").GetBoolean()));
        string text = string.Concat(events.Where(e => e.GetProperty("type").GetString() == "response.output_text.delta").Select(e => e.GetProperty("delta").GetString()));
        Assert.Equal(text, final.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(new TokenUsage(bill.PromptTokens, 2, 3, 0), record.Usage);
        var usage = final.GetProperty("usage");
        Assert.Equal((bill.PromptTokens, 2L, 3L, bill.PromptTokens + 3, record.CostNanos),
            (usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt64(),
                usage.GetProperty("output_tokens").GetInt64(), usage.GetProperty("total_tokens").GetInt64(), usage.GetProperty("cost_nanousd").GetInt64()));
    }

    [Fact]
    public async Task Stream_FunctionCall_ItemAddedArgumentsDeltasDone()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """
            {"model":"sim-mini","stream":true,"input":"Look it up","tool_choice":"required",
             "tools":[{"type":"function","name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}]}
            """, "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        var events = ResponsesApiTests.ResponseEvents(body).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal("response.output_item.added", types[2]);
        var added = events[2].GetProperty("item");
        Assert.Equal(("function_call", "lookup"), (added.GetProperty("type").GetString(), added.GetProperty("name").GetString()));
        string arguments = string.Concat(events.Where(e => e.GetProperty("type").GetString() == "response.function_call_arguments.delta").Select(e => e.GetProperty("delta").GetString()));
        var done = events.Single(e => e.GetProperty("type").GetString() == "response.function_call_arguments.done");
        Assert.Equal(arguments, done.GetProperty("arguments").GetString());
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(arguments).RootElement.GetProperty("q").ValueKind);
        Assert.Equal(["response.output_item.done", "response.completed"], types[^2..]);
        var item = events[^1].GetProperty("response").GetProperty("output")[0];
        Assert.Equal((added.GetProperty("call_id").GetString(), arguments, "completed"),
            (item.GetProperty("call_id").GetString(), item.GetProperty("arguments").GetString(), item.GetProperty("status").GetString()));
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MaxOutputTokens_LengthFinish_IncompleteWithItsReason(bool stream)
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, $$"""{"model":"sim-mini","stream":{{(stream ? "true" : "false")}},"max_output_tokens":5,"input":"long [[sim:tokens=20]]"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        var answer = stream
            ? JsonDocument.Parse(ResponsesApiTests.ResponseEvents(body)[^1]).RootElement
            : JsonDocument.Parse(body).RootElement;
        if (stream)
        {
            Assert.Equal("response.incomplete", answer.GetProperty("type").GetString());
            Assert.Contains("event: response.incomplete\n", body, StringComparison.Ordinal);
            answer = answer.GetProperty("response");
        }

        Assert.Equal(("incomplete", "max_output_tokens"), (answer.GetProperty("status").GetString(),
            answer.GetProperty("incomplete_details").GetProperty("reason").GetString()));
        Assert.Equal("incomplete", answer.GetProperty("output")[0].GetProperty("status").GetString());
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(5, record.Usage.OutputTokens);
        Assert.Equal(5, _gateway.Simulator.Billing.Find(record.RequestId)!.CompletionTokens);
    }

    [Fact]
    public async Task TextFormatJsonSchema_AnswerFitsTheSchema()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """
            {"model":"sim-mini","input":"A city, please",
             "text":{"format":{"type":"json_schema","name":"city","strict":true,
               "schema":{"type":"object","properties":{"name":{"type":"string"},"population":{"type":"integer"}},"required":["name","population"],"additionalProperties":false}}}}
            """, "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("json_schema", body.RootElement.GetProperty("text").GetProperty("format").GetProperty("type").GetString());
        string text = body.RootElement.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString()!;
        using var city = JsonDocument.Parse(text);
        Assert.Equal(JsonValueKind.String, city.RootElement.GetProperty("name").ValueKind);
        Assert.Equal(JsonValueKind.Number, city.RootElement.GetProperty("population").ValueKind);
    }

    [Fact]
    public async Task NamespaceTools_FlattenedForChat_CallComesBackWithItsNamespace()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """
            {"model":"sim-mini","input":"Spawn one","tool_choice":{"type":"function","name":"spawn_agent"},
             "tools":[{"type":"function","name":"exec_command","parameters":{"type":"object","properties":{"cmd":{"type":"string"}}}},
                      {"type":"namespace","name":"multi_agent_v1","description":"Sub-agents.","tools":[
                        {"type":"function","name":"spawn_agent","strict":false,"parameters":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}}]}]}
            """, "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = body.RootElement.GetProperty("output")[0];
        Assert.Equal(("function_call", "spawn_agent", "multi_agent_v1"),
            (call.GetProperty("type").GetString(), call.GetProperty("name").GetString(), call.GetProperty("namespace").GetString()));
    }

    [Theory]
    [InlineData("""{"previous_response_id":"resp_1"}""", "previous_response_id")]
    [InlineData("""{"truncation":"auto"}""", "truncation")]
    [InlineData("""{"max_tool_calls":3}""", "max_tool_calls")]
    [InlineData("""{"background":true}""", "background")]
    [InlineData("""{"include":["file_search_call.results"]}""", "include[0]")]
    [InlineData("""{"tools":[{"type":"custom","name":"apply_patch"}]}""", "tools[0].type")]
    [InlineData("""{"tools":[{"type":"local_shell"}]}""", "tools[0].type")]
    [InlineData("""{"tools":[{"type":"function","name":"f"},{"type":"namespace","name":"g","tools":[{"type":"function","name":"f"}]}]}""", "tools[1].tools[0].name")]
    [InlineData("""{"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[]}}""", "tool_choice")]
    [InlineData("""{"input":[{"type":"local_shell_call_output","call_id":"c","output":"x"}]}""", "input[0].type")]
    [InlineData("""{"input":[{"role":"user","content":[{"type":"input_image","file_id":"file_1"}]}]}""", "input[0].content[0]")]
    [InlineData("""{"input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"data:,"}]}]}""", "input[0].output")]
    public async Task Untranslatable_400ParamNotSupportedNamingTheField_NothingForwarded(string extra, string param)
    {
        string key = await _gateway.CreateKeyAsync();
        var body = JsonNode.Parse("""{"model":"sim-mini","input":"x"}""")!.AsObject();
        foreach (var (name, value) in JsonNode.Parse(extra)!.AsObject())
        {
            body[name] = value?.DeepClone();
        }

        using var request = ChatCompletionTests.Json(key, body.ToJsonString(), "/v1/responses");
        using var response = await _gateway.Http.SendAsync(request);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = answer.RootElement.GetProperty("error");
        Assert.Equal((ErrorCodes.ParamNotSupported, param), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((Decisions.Refused, ErrorCodes.ParamNotSupported, (string?)null), (record.Decision, record.Reason, record.ReservationId));
        Assert.Null(_gateway.Simulator.Billing.Find(record.RequestId));
    }

    [Fact]
    public async Task Stream_UpstreamCut_ResponsesErrorEvent_BilledAsGenerated()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"input":"cut me [[sim:tokens=50]] [[sim:cut=5]]"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        var events = ResponsesApiTests.ResponseEvents(body);
        using var last = JsonDocument.Parse(events[^1]);
        Assert.Equal(("error", "upstream_error"), (last.RootElement.GetProperty("type").GetString(), last.RootElement.GetProperty("code").GetString()));
        Assert.DoesNotContain("response.completed", body, StringComparison.Ordinal);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.False(bill.Completed);
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal((bill.PromptTokens, 5L), (record.Usage.InputTokens, record.Usage.OutputTokens));
    }

    [Fact]
    public async Task Stream_UpstreamOmitsUsage_CompletedEventCarriesTheEstimateMarkedSo()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"input":"[[sim:no_usage]] [[sim:tokens=17]]"}""", "/v1/responses");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        using var last = JsonDocument.Parse(ResponsesApiTests.ResponseEvents(body)[^1]);
        var usage = last.RootElement.GetProperty("response").GetProperty("usage");
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal((bill.PromptTokens, 17L), (record.Usage.InputTokens, record.Usage.OutputTokens));
        Assert.True(usage.GetProperty("estimated").GetBoolean());
        Assert.Equal(record.CostNanos, usage.GetProperty("cost_nanousd").GetInt64());
    }
}
