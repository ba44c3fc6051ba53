using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.FunctionalTests.Translation;

/// <summary>
/// The OpenAI .NET SDK, unchanged but for the base URL, in front of an upstream that speaks only Anthropic's Messages:
/// Tollgate translates each chat request to Messages and each answer (whole, or chunk by chunk) back to chat, with the
/// usage in OpenAI's shape, and every ledger row equals the Messages simulator's bill, exactly.
/// </summary>
public sealed class ChatOverMessagesTests : IAsyncLifetime
{
    private const string WeatherParameters = """
        {"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":5}},"required":["city","days"]}
        """;

    private TestGateway _gateway = null!;

    private Simulator.SimulatorEngine Messages => TranslationSetup.Engine(_gateway, TranslationSetup.MessagesOnly);

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(TranslationSetup.Configure);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task CompleteChat_PlainWithCacheReadsAndWrites_UsageInOpenAIShape_LedgerMatchesBill()
    {
        var ids = new RequestIdPolicy();
        var client = Client(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();

        ChatCompletion completion = (await client.CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Tell me about ledgers. [[sim:cached=4]] [[sim:cache_write=3]]")])).Value;

        var bill = Messages.Billing.Find(requestId)!;
        Assert.Equal("messages", bill.Endpoint);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(bill.CompletionTokens, completion.Content[0].Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        // prompt_tokens is all input: uncached, cache reads and cache writes.
        Assert.Equal((bill.PromptTokens, 4, bill.CompletionTokens),
            ((long)completion.Usage.InputTokenCount, completion.Usage.InputTokenDetails.CachedTokenCount, (long)completion.Usage.OutputTokenCount));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "ok", "chat.completions", TranslationSetup.MessagesOnly), (record.Decision, record.Reason, record.Endpoint, record.Upstream));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 4, bill.CompletionTokens, 0) { CacheWrite5mTokens = 3 }, record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(AnthropicMessagesTests.Cost(bill), record.CostNanos);
        // The caller set no cap: Messages requires one, and gets the plan's default.
        Assert.Equal(1024, record.OutputCap);
    }

    [Fact]
    public async Task CompleteChat_MaxTokensBelowTheAnswer_FinishReasonLength()
    {
        var ids = new RequestIdPolicy();
        var client = Client(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();

        ChatCompletion completion = (await client.CompleteChatAsync([new UserChatMessage("A long answer [[sim:tokens=40]]")],
            new ChatCompletionOptions { MaxOutputTokenCount = 6 })).Value;

        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(6, completion.Usage.OutputTokenCount);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((6L, 6L), (record.OutputCap, record.Usage.OutputTokens));
        Assert.Equal(Messages.Billing.Find(requestId)!.CompletionTokens, record.Usage.OutputTokens);
    }

    [Fact]
    public async Task CompleteChatStreaming_WithIncludeUsage_LastChunkCarriesTheBill()
    {
        var ids = new RequestIdPolicy();
        var client = Client(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream a story [[sim:tokens=15]] [[sim:cached=2]]")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        var bill = Messages.Billing.Find(requestId)!;
        Assert.True(bill.Stream && bill.Completed);
        Assert.Equal(15, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal((bill.PromptTokens, 2, 15L), ((long)usage!.InputTokenCount, usage.InputTokenDetails.CachedTokenCount, (long)usage.OutputTokenCount));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 2, 15, 0), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(AnthropicMessagesTests.Cost(bill), record.CostNanos);
    }

    [Fact]
    public async Task Stream_WithoutIncludeUsage_NoUsageChunk_EndsWithDone_StillBilledExactly()
    {
        string key = await _gateway.CreateKeyAsync(plan: "translated");
        using var request = ChatCompletionTests.Json(key, $$"""{"model":"{{TranslationSetup.OverMessages}}","stream":true,"messages":[{"role":"user","content":"quietly [[sim:tokens=9]]"}]}""");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        var events = StreamingTests.DataEvents(body);
        Assert.Equal("[DONE]", events[^1]);
        Assert.DoesNotContain(events, e => e != "[DONE]" && JsonDocument.Parse(e).RootElement.TryGetProperty("usage", out _));
        Assert.Equal("stop", JsonDocument.Parse(events[^2]).RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = Messages.Billing.Find(record.RequestId)!;
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 9, 0), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
    }

    [Fact]
    public async Task CompleteChat_ToolsLoop_ToolCallThenToolMessageThenAnswer_EachTurnBilledExactly()
    {
        var ids = new RequestIdPolicy();
        var client = Client(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        var options = new ChatCompletionOptions();
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "The forecast", BinaryData.FromString(WeatherParameters)));
        List<ChatMessage> messages = [new UserChatMessage("""Weather? [[sim:call=get_weather {"city":"Paris","days":2}]] [[sim:say=Sunny for two days.]]""")];
        string first = ids.Use();

        ChatCompletion call = (await client.CompleteChatAsync(messages, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, call.FinishReason);
        var toolCall = Assert.Single(call.ToolCalls);
        Assert.Equal("get_weather", toolCall.FunctionName);
        using (var arguments = JsonDocument.Parse(toolCall.FunctionArguments.ToString()))
        {
            Assert.Equal(("Paris", 2), (arguments.RootElement.GetProperty("city").GetString(), arguments.RootElement.GetProperty("days").GetInt32()));
        }

        messages.Add(new AssistantChatMessage(call));
        messages.Add(new ToolChatMessage(toolCall.Id, "18 degrees and sunny"));
        string second = ids.Use();
        ChatCompletion answer = (await client.CompleteChatAsync(messages, options)).Value;

        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        Assert.Equal("Sunny for two days.", answer.Content[0].Text);
        foreach (string requestId in new[] { first, second })
        {
            var bill = Messages.Billing.Find(requestId)!;
            var record = await _gateway.AuditAsync(requestId);
            Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
            Assert.Equal(AnthropicMessagesTests.Cost(bill), record.CostNanos);
        }
    }

    [Fact]
    public async Task CompleteChatStreaming_NamedTool_CallArgumentsAssembleFromTheChunks()
    {
        var ids = new RequestIdPolicy();
        var client = Client(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "The forecast", BinaryData.FromString(WeatherParameters)));
        string requestId = ids.Use();
        string? name = null, id = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream the forecast.")], options))
        {
            foreach (var toolUpdate in update.ToolCallUpdates)
            {
                name ??= toolUpdate.FunctionName;
                id ??= toolUpdate.ToolCallId;
                arguments.Append(toolUpdate.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(("get_weather", ChatFinishReason.ToolCalls), (name, finish));
        Assert.StartsWith("toolu_", id, StringComparison.Ordinal);
        using var parsed = JsonDocument.Parse(arguments.ToString());
        Assert.Equal(JsonValueKind.String, parsed.RootElement.GetProperty("city").ValueKind);
        var bill = Messages.Billing.Find(requestId)!;
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), (await _gateway.AuditAsync(requestId)).Usage);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CompleteChat_JsonSchemaResponseFormat_ContentFitsTheSchema_SentAsAForcedTool_LedgerMatchesBill(bool stream)
    {
        var ids = new RequestIdPolicy();
        var client = Client(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("forecast", BinaryData.FromString(WeatherParameters), jsonSchemaIsStrict: true),
        };
        List<ChatMessage> messages = [new UserChatMessage("The forecast, as JSON.")];

        string content;
        ChatFinishReason? finish;
        if (stream)
        {
            var text = new StringBuilder();
            finish = null;
            await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
            {
                Assert.Empty(update.ToolCallUpdates);
                text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
                finish ??= update.FinishReason;
            }

            content = text.ToString();
        }
        else
        {
            ChatCompletion completion = (await client.CompleteChatAsync(messages, options)).Value;
            Assert.Empty(completion.ToolCalls);
            content = completion.Content[0].Text;
            finish = completion.FinishReason;
        }

        Assert.Equal(ChatFinishReason.Stop, finish);
        ToolsAndStructuredOutputTests.AssertFits(WeatherParameters, content);
        var bill = Messages.Billing.Find(requestId)!;
        Assert.Equal("messages", bill.Endpoint);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "ok"), (record.Decision, record.Reason));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
        Assert.Equal(AnthropicMessagesTests.Cost(bill), record.CostNanos);
    }

    [Fact]
    public async Task CompleteChat_ResponseFormatWithTools_400ParamNotSupported_NothingForwarded()
    {
        var ids = new RequestIdPolicy();
        var client = Client(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("As JSON.")], new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("forecast", BinaryData.FromString(WeatherParameters)),
            Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString(WeatherParameters)) },
        }));

        Assert.Equal(400, e.Status);
        using var error = JsonDocument.Parse(e.GetRawResponse()!.Content.ToString());
        Assert.Equal(("response_format", ErrorCodes.ParamNotSupported),
            (error.RootElement.GetProperty("error").GetProperty("param").GetString(), error.RootElement.GetProperty("error").GetProperty("code").GetString()));
        Assert.Null(Messages.Billing.Find(requestId));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.ParamNotSupported, (string?)null), (record.Decision, record.Reason, record.ReservationId));
    }

    [Theory]
    [InlineData("\"n\":2", "n")]
    [InlineData("\"logprobs\":true", "logprobs")]
    [InlineData("\"temperature\":1.5", "temperature")]
    [InlineData("\"seed\":7", "seed")]
    public async Task Create_FieldWithoutAMessagesEquivalent_400NamingIt(string field, string param)
    {
        string key = await _gateway.CreateKeyAsync(plan: "translated");
        using var request = ChatCompletionTests.Json(key, $$"""{"model":"{{TranslationSetup.OverMessages}}",{{field}},"messages":[{"role":"user","content":"hi"}]}""");

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((param, ErrorCodes.ParamNotSupported),
            (body.RootElement.GetProperty("error").GetProperty("param").GetString(), body.RootElement.GetProperty("error").GetProperty("code").GetString()));
        Assert.Empty(Messages.Billing.All);
    }

    [Fact]
    public async Task Stream_CutByTheMessagesUpstream_ErrorChunkAndBilledAsTheNativePathBillsIt()
    {
        string key = await _gateway.CreateKeyAsync(plan: "translated");
        using var request = ChatCompletionTests.Json(key, $$"""{"model":"{{TranslationSetup.OverMessages}}","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"cut me [[sim:tokens=50]] [[sim:cut=5]]"}]}""");

        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        var events = StreamingTests.DataEvents(body);
        using var last = JsonDocument.Parse(events[^1]);
        Assert.Equal("upstream_error", last.RootElement.GetProperty("error").GetProperty("code").GetString());
        var text = new StringBuilder();
        foreach (string e in events.SkipLast(1))
        {
            using var chunk = JsonDocument.Parse(e);
            if (chunk.RootElement.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var content))
            {
                text.Append(content.GetString());
            }
        }

        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = Messages.Billing.Find(record.RequestId)!;
        Assert.Equal((5L, false), (bill.CompletionTokens, bill.Completed));
        Assert.Equal((ErrorCodes.UpstreamError, UsageSource.Estimated, "stream_cut_without_usage:estimate"), (record.Reason, record.UsageSource, record.BillingRule));
        var model = _gateway.App.Services.GetRequiredService<Configuration.GatewayConfigMonitor>().Current.Models.Single(m => m.Name == TranslationSetup.OverMessages);
        Assert.Equal(Tokenization.UsageEstimator.CountOutput(model, text.ToString()), record.Usage.OutputTokens);
        Assert.True(record.Usage.OutputTokens >= bill.CompletionTokens);
    }

    private ChatClient Client(string key, RequestIdPolicy ids) => _gateway.OpenAI(key, ids).GetChatClient(TranslationSetup.OverMessages);
}
