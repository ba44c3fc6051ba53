using Anthropic.Models.Messages;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// The Anthropic Messages API through the official Anthropic .NET SDK, unchanged but for the base URL: plain,
/// streaming, tools and count_tokens, each ledger row equal to the simulator's bill, exactly.
/// </summary>
public sealed class AnthropicMessagesTests : IAsyncLifetime
{
    // sim-claude: $3 input, $0.30 cache reads, $3.75 five-minute and $6 one-hour cache writes, $15 output per million.
    private const long InputMicros = 3_000_000, CachedMicros = 300_000, Write5mMicros = 3_750_000, Write1hMicros = 6_000_000, OutputMicros = 15_000_000;

    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Create_PlainMessage_LedgerMatchesSimulatorBill()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var message = await client.Messages.Create(new MessageCreateParams
        {
            Model = "sim-claude",
            MaxTokens = 256,
            Messages = [new UserMessageParam("Tell me about toll gates.")],
        });

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.NotNull(bill);
        Assert.Equal("messages", bill.Endpoint);
        Assert.Equal(bill.PromptTokens, message.Usage.InputTokens);
        Assert.Equal(bill.CompletionTokens, message.Usage.OutputTokens);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "ok", "messages"), (record.Decision, record.Reason, record.Endpoint));
        Assert.Equal(("sim-claude", "simulator"), (record.Model, record.Upstream));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(Cost(bill), record.CostNanos);
        Assert.Equal(bill.UpstreamRequestId, record.UpstreamRequestId);
        Assert.Equal(256, record.OutputCap);
    }

    [Fact]
    public async Task Create_CacheReadsAndWrites_BilledAtTheirRates()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var message = await client.Messages.Create(new MessageCreateParams
        {
            Model = "sim-claude",
            MaxTokens = 256,
            Messages = [new UserMessageParam("A cached prompt about ledgers [[sim:cached=4]] [[sim:cache_write=3]] [[sim:cache_write_1h=2]]")],
        });

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal((4, 3, 2), (bill.CachedTokens, bill.CacheWrite5mTokens, bill.CacheWrite1hTokens));
        Assert.Equal(bill.PromptTokens - 9, message.Usage.InputTokens);
        Assert.Equal(4, message.Usage.CacheReadInputTokens);
        Assert.Equal(5, message.Usage.CacheCreationInputTokens);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 4, bill.CompletionTokens, 0) { CacheWrite5mTokens = 3, CacheWrite1hTokens = 2 }, record.Usage);
        Assert.Equal(Cost(bill), record.CostNanos);
    }

    [Fact]
    public async Task CreateStreaming_LedgerMatchesSimulatorBill()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var text = new System.Text.StringBuilder();
        long? streamedOutput = null;
        await foreach (var streamEvent in client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "sim-claude",
            MaxTokens = 256,
            Messages = [new UserMessageParam("Stream me a story [[sim:cached=2]] [[sim:cache_write=5]]")],
        }))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta.Text);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                streamedOutput = messageDelta.Usage.OutputTokens;
            }
        }

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.True(bill.Stream && bill.Completed);
        Assert.Equal(bill.CompletionTokens, streamedOutput);
        Assert.Equal(bill.CompletionTokens, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(("ok", true), (record.Reason, record.Stream));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 2, bill.CompletionTokens, 0) { CacheWrite5mTokens = 5 }, record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(Cost(bill), record.CostNanos);
    }

    [Fact]
    public async Task Create_WithToolsAndToolResults_PassesThroughAndBillsTheSimulatorsCount()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();
        var schema = new InputSchema
        {
            Properties = new Dictionary<string, System.Text.Json.JsonElement>
            {
                ["city"] = System.Text.Json.JsonSerializer.SerializeToElement(new { type = "string" }),
            },
            Required = ["city"],
        };

        var message = await client.Messages.Create(new MessageCreateParams
        {
            Model = "sim-claude",
            MaxTokens = 256,
            Tools = [new Tool { Name = "get_weather", Description = "The weather in a city.", InputSchema = schema }],
            Messages =
            [
                new UserMessageParam("What is the weather in Paris?"),
                new AssistantMessageParam(new List<ContentBlockParam>
                {
                    new ToolUseBlockParam { ID = "toolu_01", Name = "get_weather", Input = new Dictionary<string, System.Text.Json.JsonElement> { ["city"] = System.Text.Json.JsonSerializer.SerializeToElement("Paris") } },
                }),
                new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam("toolu_01") { Content = "18 degrees and sunny" } }),
            ],
        });

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal(bill.PromptTokens, message.Usage.InputTokens);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, bill.CompletionTokens, 0), record.Usage);
        Assert.Equal(Cost(bill), record.CostNanos);
    }

    [Fact]
    public async Task CountTokens_ForwardedToTheSimulator_AuditedAndFree()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var count = await client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "sim-claude",
            Messages = [new UserMessageParam("How many tokens is this?")],
        });

        ids.Use();
        var truth = await client.Messages.Create(new MessageCreateParams
        {
            Model = "sim-claude",
            MaxTokens = 16,
            Messages = [new UserMessageParam("How many tokens is this?")],
        });
        Assert.Equal(truth.Usage.InputTokens, count.InputTokens);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "ok", "messages.count_tokens"), (record.Decision, record.Reason, record.Endpoint));
        Assert.Equal(default, record.Usage);
        Assert.Equal(0, record.CostNanos);
        Assert.Equal(200, record.UpstreamStatus);
    }

    [Fact]
    public async Task ListModels_WithAnthropicVersion_AnthropicShapeOfThePlansModels()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "free"), ids);

        var page = await client.Models.List();

        Assert.Equal(["sim-mini"], page.Items.Select(m => m.ID).ToArray());
    }

    internal static long Cost(Simulator.SimulatorBill bill)
    {
        long writes = bill.CacheWrite5mTokens + bill.CacheWrite1hTokens;
        long uncached = bill.PromptTokens - bill.CachedTokens - writes;
        long picos = uncached * InputMicros + bill.CachedTokens * CachedMicros + bill.CacheWrite5mTokens * Write5mMicros
            + bill.CacheWrite1hTokens * Write1hMicros + bill.CompletionTokens * OutputMicros;
        return (picos + 999) / 1000;
    }
}
