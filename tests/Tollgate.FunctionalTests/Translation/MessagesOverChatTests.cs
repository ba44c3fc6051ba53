using System.Net;
using System.Text.Json;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.FunctionalTests.Translation;

/// <summary>
/// The Anthropic .NET SDK, unchanged but for the base URL, in front of an upstream that speaks only chat completions:
/// Tollgate translates each request to chat and each answer (whole, or event by event) back to Messages, and every
/// ledger row equals the chat simulator's bill, exactly.
/// </summary>
public sealed class MessagesOverChatTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    private Simulator.SimulatorEngine Chat => TranslationSetup.Engine(_gateway, TranslationSetup.ChatOnly);

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(TranslationSetup.Configure);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Create_PlainMessage_AnsweredByTheChatUpstream_LedgerMatchesItsBill()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();

        var message = await client.Messages.Create(Ask("Tell me about toll gates. [[sim:cached=3]]"));

        var bill = Chat.Billing.Find(requestId)!;
        Assert.Equal("chat/completions", bill.Endpoint);
        Assert.Equal(TranslationSetup.OverChat, message.Model.Raw());
        Assert.Equal("end_turn", message.StopReason?.Raw());
        Assert.True(Assert.Single(message.Content).TryPickText(out var text));
        Assert.Equal(bill.CompletionTokens, text!.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal((bill.PromptTokens - 3, 3L, 0L, bill.CompletionTokens),
            (message.Usage.InputTokens, message.Usage.CacheReadInputTokens, message.Usage.CacheCreationInputTokens, message.Usage.OutputTokens));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "ok", "messages", TranslationSetup.ChatOnly), (record.Decision, record.Reason, record.Endpoint, record.Upstream));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 3, bill.CompletionTokens, 0), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(AnthropicMessagesTests.Cost(bill), record.CostNanos);
        Assert.Equal(bill.UpstreamRequestId, record.UpstreamRequestId);
    }

    [Fact]
    public async Task Create_MaxTokensBelowTheAnswer_CapSentToChatAndStopReasonMaxTokens()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();

        var message = await client.Messages.Create(Ask("A long answer [[sim:tokens=40]]", maxTokens: 7));

        Assert.Equal("max_tokens", message.StopReason?.Raw());
        Assert.Equal(7, message.Usage.OutputTokens);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((7L, 7L), (record.OutputCap, record.Usage.OutputTokens));
        Assert.Equal(Chat.Billing.Find(requestId)!.CompletionTokens, record.Usage.OutputTokens);
    }

    [Fact]
    public async Task CreateStreaming_EventsInMessagesOrder_UsageInMessageDelta_LedgerMatchesBill()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();
        var kinds = new List<string>();
        var text = new System.Text.StringBuilder();
        MessageDeltaUsage? usage = null;
        string? stop = null;

        await foreach (var streamEvent in client.Messages.CreateStreaming(Ask("Stream me a story [[sim:tokens=12]] [[sim:cached=2]]")))
        {
            if (streamEvent.TryPickStart(out _))
            {
                kinds.Add("message_start");
            }
            else if (streamEvent.TryPickContentBlockStart(out _))
            {
                kinds.Add("content_block_start");
            }
            else if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                kinds.Add("text_delta");
                text.Append(textDelta.Text);
            }
            else if (streamEvent.TryPickContentBlockStop(out _))
            {
                kinds.Add("content_block_stop");
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                kinds.Add("message_delta");
                usage = messageDelta.Usage;
                stop = messageDelta.Delta.StopReason?.Raw();
            }
            else if (streamEvent.TryPickStop(out _))
            {
                kinds.Add("message_stop");
            }
        }

        Assert.Equal(["message_start", "content_block_start", .. Enumerable.Repeat("text_delta", 12), "content_block_stop", "message_delta", "message_stop"], kinds);
        var bill = Chat.Billing.Find(requestId)!;
        Assert.True(bill.Stream && bill.Completed);
        Assert.Equal(12, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("end_turn", stop);
        Assert.Equal((bill.PromptTokens - 2, 2L, 12L), (usage!.InputTokens, usage.CacheReadInputTokens, usage.OutputTokens));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(("ok", true), (record.Reason, record.Stream));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 2, 12, 0), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(AnthropicMessagesTests.Cost(bill), record.CostNanos);
    }

    [Fact]
    public async Task Create_ToolsLoop_ToolUseThenToolResultThenAnswer_EachTurnBilledExactly()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        const string Prompt = """What is the weather in Paris? [[sim:call=get_weather {"city":"Paris"}]] [[sim:say=Sunny in Paris.]]""";
        var tools = new List<ToolUnion> { Weather() };
        string first = ids.Use();

        var call = await client.Messages.Create(new MessageCreateParams
        {
            Model = TranslationSetup.OverChat,
            MaxTokens = 256,
            Tools = tools,
            Messages = [new UserMessageParam(Prompt)],
        });

        Assert.Equal("tool_use", call.StopReason?.Raw());
        Assert.True(Assert.Single(call.Content).TryPickToolUse(out var toolUse));
        Assert.Equal("get_weather", toolUse!.Name);
        Assert.Equal("Paris", toolUse.Input["city"].GetString());
        string second = ids.Use();
        var answer = await client.Messages.Create(new MessageCreateParams
        {
            Model = TranslationSetup.OverChat,
            MaxTokens = 256,
            Tools = tools,
            Messages =
            [
                new UserMessageParam(Prompt),
                new AssistantMessageParam(new List<ContentBlockParam>
                {
                    new ToolUseBlockParam { ID = toolUse.ID, Name = toolUse.Name, Input = toolUse.Input },
                }),
                new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam(toolUse.ID) { Content = "18 degrees and sunny" } }),
            ],
        });

        Assert.Equal("end_turn", answer.StopReason?.Raw());
        Assert.True(Assert.Single(answer.Content).TryPickText(out var text));
        Assert.Equal("Sunny in Paris.", text!.Text);
        foreach (string requestId in new[] { first, second })
        {
            var bill = Chat.Billing.Find(requestId)!;
            var record = await _gateway.AuditAsync(requestId);
            Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
            Assert.Equal(AnthropicMessagesTests.Cost(bill), record.CostNanos);
        }
    }

    [Fact]
    public async Task CreateStreaming_RequiredTool_ToolUseBlockWithInputJsonDeltas()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();
        string? name = null;
        var json = new System.Text.StringBuilder();
        string? stop = null;

        await foreach (var streamEvent in client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = TranslationSetup.OverChat,
            MaxTokens = 256,
            Tools = [Weather()],
            ToolChoice = new ToolChoiceAny(),
            Messages = [new UserMessageParam("Stream the forecast.")],
        }))
        {
            if (streamEvent.TryPickContentBlockStart(out var start) && start.ContentBlock.TryPickToolUse(out var toolUse))
            {
                name = toolUse.Name;
            }
            else if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickInputJson(out var inputJson))
            {
                json.Append(inputJson.PartialJson);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                stop = messageDelta.Delta.StopReason?.Raw();
            }
        }

        Assert.Equal(("get_weather", "tool_use"), (name, stop));
        using var input = JsonDocument.Parse(json.ToString());
        Assert.Equal(JsonValueKind.String, input.RootElement.GetProperty("city").ValueKind);
        var bill = Chat.Billing.Find(requestId)!;
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
        Assert.Equal(AnthropicMessagesTests.Cost(bill), record.CostNanos);
    }

    [Fact]
    public async Task Create_SystemImageAndStopSequences_TranslatedAndBilledExactly()
    {
        string key = await _gateway.CreateKeyAsync(plan: "translated");
        // A 1x1 PNG.
        const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
        using var request = Post(key, $$$"""
            {"model":"{{{TranslationSetup.OverChat}}}","max_tokens":64,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
             "stop_sequences":["zzz"],"temperature":0.5,"top_p":0.9,"metadata":{"user_id":"u-1"},
             "messages":[{"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"{{{Png}}}"}}]}]}
            """);

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("message", body.RootElement.GetProperty("type").GetString());
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = Chat.Billing.Find(record.RequestId)!;
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
        Assert.Equal(record.CostNanos, body.RootElement.GetProperty("usage").GetProperty("cost_nanousd").GetInt64());
    }

    [Fact]
    public async Task Create_ExtendedThinking_400ParamNotSupported_NothingForwardedOrBilled()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(new MessageCreateParams
        {
            Model = TranslationSetup.OverChat,
            MaxTokens = 4000,
            Thinking = new ThinkingConfigEnabled(2000),
            Messages = [new UserMessageParam("Think hard.")],
        }));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Contains("thinking: extended thinking with a budget has no equivalent", e.ResponseBody, StringComparison.Ordinal);
        Assert.Null(Chat.Billing.Find(requestId));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.ParamNotSupported, (string?)null, 0L), (record.Decision, record.Reason, record.ReservationId, record.CostNanos));
    }

    [Fact]
    public async Task CreateStreaming_CutByTheChatUpstream_ErrorEventAndBilledAsTheNativePathBillsIt()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "translated"), ids);
        string requestId = ids.Use();
        var text = new System.Text.StringBuilder();

        await Assert.ThrowsAnyAsync<AnthropicException>(async () =>
        {
            await foreach (var streamEvent in client.Messages.CreateStreaming(Ask("cut me off [[sim:tokens=30]] [[sim:cut=4]]")))
            {
                if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
                {
                    text.Append(textDelta.Text);
                }
            }
        });

        var bill = Chat.Billing.Find(requestId)!;
        Assert.Equal((4L, false), (bill.CompletionTokens, bill.Completed));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(ErrorCodes.UpstreamError, record.Reason);
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal("stream_cut_without_usage:estimate", record.BillingRule);
        var model = _gateway.App.Services.GetRequiredService<Configuration.GatewayConfigMonitor>().Current.Models.Single(m => m.Name == TranslationSetup.OverChat);
        Assert.Equal(Tokenization.UsageEstimator.CountOutput(model, text.ToString()), record.Usage.OutputTokens);
        Assert.True(record.Usage.OutputTokens >= bill.CompletionTokens);
    }

    private static MessageCreateParams Ask(string text, long maxTokens = 256) => new()
    {
        Model = TranslationSetup.OverChat,
        MaxTokens = maxTokens,
        Messages = [new UserMessageParam(text)],
    };

    private static Tool Weather() => new()
    {
        Name = "get_weather",
        Description = "The weather in a city.",
        InputSchema = new InputSchema
        {
            Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
            Required = ["city"],
        },
    };

    internal static HttpRequestMessage Post(string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        return request;
    }
}
