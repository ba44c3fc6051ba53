using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Protocol;

namespace Tollgate.FunctionalTests.Messages;

/// <summary>
/// An upstream of kind <c>anthropic</c> (a loopback stand-in recording what arrives) behind the official Anthropic .NET
/// SDK: the provider's key as <c>x-api-key</c>, the version and betas, the output cap and thinking budget as the plan
/// clamps them, priced documents and covered betas, and the upstream's refusals and silence; count_tokens counted
/// locally when the upstream does not offer it, and <c>GET /v1/models/{id}</c> in Anthropic's shape.
/// </summary>
public sealed class AnthropicUpstreamTests : IAsyncLifetime
{
    private const string Secret = "anthropic-test-key-0123456789";
    // fake-claude: $3 input and $15 output per million; the fake reports 11 in and 3 out: 78 µ$.
    private const long FakeCostNanos = (AnthropicUpstreamFake.InputTokens * 3_000_000 + AnthropicUpstreamFake.OutputTokens * 15_000_000 + 999) / 1000;

    private AnthropicUpstreamFake _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await AnthropicUpstreamFake.StartAsync();
        _gateway = await StartGatewayAsync(_upstream);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static Task<TestGateway> StartGatewayAsync(AnthropicUpstreamFake upstream, Action<JsonObject>? configure = null)
    {
        Environment.SetEnvironmentVariable("TOLLGATE_TEST_ANTHROPIC_KEY", Secret);
        return TestGateway.StartAsync(c =>
        {
            c["Upstreams"]!["anthropic"] = new JsonObject
            {
                ["Kind"] = "anthropic",
                ["BaseUrl"] = upstream.BaseUrl.ToString(),
                ["ApiKeyEnv"] = "TOLLGATE_TEST_ANTHROPIC_KEY",
                ["AnthropicVersion"] = "2023-01-01",
            };
            c["Upstreams"]!["plain-openai"] = new JsonObject { ["Kind"] = "openai", ["BaseUrl"] = "http://127.0.0.1:9/v1" };
            c["Models"]!["fake-claude"] = new JsonObject
            {
                ["Upstream"] = "anthropic",
                ["UpstreamModel"] = "claude-fake-1",
                ["Prices"] = new JsonObject { ["Input"] = 3.0, ["Output"] = 15.0, ["CoveredBetas"] = new JsonArray("context-1m-2025-08-07") },
                ["PriceChangingBetas"] = new JsonArray("context-1m-2025-08-07"),
                ["DocumentTokens"] = 1500,
                ["ContextWindow"] = 200000,
                ["MaxOutputTokens"] = 64000,
                ["Encoding"] = "approximate",
            };
            c["Models"]!["chat-only"] = new JsonObject
            {
                ["Upstream"] = "plain-openai",
                ["Prices"] = new JsonObject { ["Input"] = 1.0, ["Output"] = 2.0 },
                ["ContextWindow"] = 32000,
                ["MaxOutputTokens"] = 4096,
                ["Encoding"] = "o200k_base",
            };
            c["Plans"]!["basic"]!["Models"]!.AsArray().Add("fake-claude");
            c["Plans"]!["basic"]!["Models"]!.AsArray().Add("chat-only");
            c["Plans"]!["clamp"] = new JsonObject { ["Models"] = new JsonArray("fake-claude"), ["MaxOutputTokens"] = 2000, ["OutputCapPolicy"] = "clamp" };
            configure?.Invoke(c);
        });
    }

    private static MessageCreateParams Ask(string text, long maxTokens = 64) => new()
    {
        Model = "fake-claude",
        MaxTokens = maxTokens,
        Messages = [new UserMessageParam(text)],
    };

    [Fact]
    public async Task Create_SendsTheProvidersKeyAsXApiKeyAndTheCallersVersion_BilledFromItsUsage()
    {
        var ids = new RequestIdHandler();
        string key = await _gateway.CreateKeyAsync();
        var versions = new VersionRecorder { InnerHandler = ids };
        var client = new global::Anthropic.AnthropicClient
        {
            BaseUrl = _gateway.Address.ToString().TrimEnd('/'),
            ApiKey = key,
            MaxRetries = 0,
            HttpClient = new HttpClient(versions),
        };
        string requestId = ids.Use();

        var message = await client.Messages.Create(Ask("Hello, Anthropic."));

        Assert.Equal("hello from anthropic", Assert.Single(message.Content).Value is TextBlock text ? text.Text : null);
        var seen = Assert.Single(_upstream.Requests);
        Assert.NotNull(versions.Sent);
        Assert.NotEqual("2023-01-01", versions.Sent);
        Assert.Equal(("/v1/messages", Secret, (string?)null, versions.Sent), (seen.Path, seen.ApiKey, seen.Authorization, seen.Version));
        Assert.NotEqual(key, seen.ApiKey);
        Assert.Equal("claude-fake-1", seen.Body["model"]!.GetValue<string>());
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "anthropic", AnthropicUpstreamFake.InputTokens, AnthropicUpstreamFake.OutputTokens, FakeCostNanos),
            (record.Decision, record.Upstream, record.Usage.InputTokens, record.Usage.OutputTokens, record.CostNanos));
    }

    [Fact]
    public async Task Create_NoVersionFromTheCaller_UpstreamsDefaultVersionAndBetasVerbatim()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent("""{"model":"fake-claude","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", key);
        request.Headers.TryAddWithoutValidation("anthropic-beta", "prompt-caching-2024-07-31,token-efficient-tools-2025-02-19");

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(_upstream.Requests);
        Assert.Equal((Secret, "2023-01-01", "prompt-caching-2024-07-31,token-efficient-tools-2025-02-19"), (seen.ApiKey, seen.Version, seen.Beta));
    }

    [Fact]
    public async Task BetaCreate_PriceChangingBetaCoveredByThePrices_ForwardedAndBilled()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        await client.Beta.Messages.Create(new global::Anthropic.Models.Beta.Messages.MessageCreateParams
        {
            Model = "fake-claude",
            MaxTokens = 32,
            Messages = [new global::Anthropic.Models.Beta.Messages.BetaUserMessageParam("a long one")],
            Betas = ["context-1m-2025-08-07"],
        });

        Assert.Equal("context-1m-2025-08-07", Assert.Single(_upstream.Requests).Beta);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, FakeCostNanos), (record.Decision, record.CostNanos));
    }

    [Fact]
    public async Task Create_PdfForAModelThatPricesDocuments_ServedAndBilledFromItsUsage()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var message = await client.Messages.Create(new MessageCreateParams
        {
            Model = "fake-claude",
            MaxTokens = 64,
            Messages = [new UserMessageParam(new List<ContentBlockParam> { MessagesRefusalTests.Pdf(), new TextBlockParam("Summarize the document.") })],
        });

        Assert.Equal(AnthropicUpstreamFake.OutputTokens, message.Usage.OutputTokens);
        var seen = Assert.Single(_upstream.Requests);
        Assert.Equal("document", seen.Body["messages"]![0]!["content"]![0]!["type"]!.GetValue<string>());
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, FakeCostNanos), (record.Decision, record.CostNanos));
    }

    [Fact]
    public async Task Create_PlanClampsMaxTokens_UpstreamReceivesTheClampedValue()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "clamp"), ids);
        string requestId = ids.Use();

        await client.Messages.Create(Ask("Write an essay.", maxTokens: 5000));

        var seen = Assert.Single(_upstream.Requests);
        Assert.Equal(2000, seen.Body["max_tokens"]!.GetValue<long>());
        Assert.Equal(2000, (await _gateway.AuditAsync(requestId)).OutputCap);
    }

    [Fact]
    public async Task Create_ClampedBelowTheThinkingBudget_BudgetLoweredJustBelowTheCap()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "clamp"), ids);
        ids.Use();

        await client.Messages.Create(new MessageCreateParams
        {
            Model = "fake-claude",
            MaxTokens = 8000,
            Thinking = new ThinkingConfigEnabled(6000),
            Messages = [new UserMessageParam("Think hard.")],
        });

        var seen = Assert.Single(_upstream.Requests);
        Assert.Equal(2000, seen.Body["max_tokens"]!.GetValue<long>());
        Assert.Equal(("enabled", 1999L), (seen.Body["thinking"]!["type"]!.GetValue<string>(), seen.Body["thinking"]!["budget_tokens"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Create_ClampLeavesNoRoomForThinking_400MaxTokensTooLargeNamingTheBudget()
    {
        await using var gateway = await StartGatewayAsync(_upstream, c => c["Plans"]!["clamp"]!["MaxOutputTokens"] = 1000);
        var ids = new RequestIdHandler();
        var client = gateway.Anthropic(await gateway.CreateKeyAsync(plan: "clamp"), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(new MessageCreateParams
        {
            Model = "fake-claude",
            MaxTokens = 3000,
            Thinking = new ThinkingConfigEnabled(1024),
            Messages = [new UserMessageParam("Think hard.")],
        }));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_request_error", MessagesRefusalTests.ErrorType(e));
        Assert.Equal("plan clamp: at most 1000 output tokens for 'fake-claude', which leaves no room for extended thinking (thinking.budget_tokens must be at least 1024 and below max_tokens).",
            MessagesRefusalTests.Message(e));
        Assert.Empty(_upstream.Requests);
        var record = await gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.MaxTokensTooLarge, 400, (string?)null, 0L), (record.Decision, record.Reason, record.Status, record.ReservationId, record.CostNanos));
    }

    [Fact]
    public async Task Create_UpstreamRejectsTheRequest_400UpstreamRejectedRequestWithItsMessageAndNothingBilled()
    {
        _upstream.Respond = (http, _) => AnthropicUpstreamFake.WriteErrorAsync(http, 400, "invalid_request_error", $"messages.0: bad block (key {Secret})");
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(Ask("hello")));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_request_error", MessagesRefusalTests.ErrorType(e));
        Assert.Equal("The upstream for 'fake-claude' rejected the request: messages.0: bad block (key [redacted])", MessagesRefusalTests.Message(e));
        var record = await _gateway.AuditAsync(requestId);
        // Admitted and forwarded, then refused by the upstream: released unbilled.
        Assert.Equal((Decisions.Allowed, ErrorCodes.UpstreamRejectedRequest, 400, 400), (record.Decision, record.Reason, record.Status, record.UpstreamStatus));
        Assert.Equal((0L, default(Pricing.TokenUsage)), (record.CostNanos, record.Usage));
    }

    [Fact]
    public async Task Create_UpstreamSilent_504ApiErrorBilledByTheTimeoutRule()
    {
        await using var gateway = await StartGatewayAsync(_upstream, c =>
        {
            c["Upstreams"]!["anthropic"]!["ResponseTimeout"] = "00:00:00.300";
            c["Upstreams"]!["anthropic"]!["UnknownOutcomes"] = new JsonObject { ["TimeoutBeforeHeaders"] = "none" };
        });
        _upstream.Respond = (http, _) => Task.Delay(Timeout.Infinite, http.RequestAborted);
        var ids = new RequestIdHandler();
        var client = gateway.Anthropic(await gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Messages.Create(Ask("hello?")));

        Assert.Equal(HttpStatusCode.GatewayTimeout, e.StatusCode);
        Assert.Equal("api_error", MessagesRefusalTests.ErrorType(e));
        Assert.Equal("The upstream for 'fake-claude' did not respond within 0.3 s.", MessagesRefusalTests.Message(e));
        var record = await gateway.AuditAsync(requestId);
        Assert.Equal((ErrorCodes.UpstreamTimeout, 504, "timeout_before_headers:none", Pricing.UsageSource.None, 0L),
            (record.Reason, record.Status, record.BillingRule, record.UsageSource, record.CostNanos));
    }

    [Fact]
    public async Task CountTokens_UpstreamRejectsIt_400UpstreamRejectedRequest()
    {
        _upstream.Respond = (http, _) => AnthropicUpstreamFake.WriteErrorAsync(http, 400, "invalid_request_error", "no");
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "fake-claude",
            Messages = [new UserMessageParam("How many?")],
        }));

        Assert.Equal("invalid_request_error", MessagesRefusalTests.ErrorType(e));
        Assert.Equal("The upstream for 'fake-claude' rejected the request (status 400).", MessagesRefusalTests.Message(e));
        Assert.Equal("/v1/messages/count_tokens", Assert.Single(_upstream.Requests).Path);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.UpstreamRejectedRequest, 400, "messages.count_tokens"), (record.Decision, record.Reason, record.Status, record.Endpoint));
        Assert.Equal(0L, record.CostNanos);
    }

    [Fact]
    public async Task CountTokens_ModelOnATranslatedUpstream_CountedLocallyExactly()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var count = await client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "chat-only",
            System = "You count.",
            Messages = [new UserMessageParam("How many tokens is this sentence, exactly?")],
        });

        var model = _gateway.App.Services.GetRequiredService<Configuration.GatewayConfigMonitor>().Current.Models.Single(m => m.Name == "chat-only");
        Assert.True(AnthropicRequestReader.CountTokens.TryRead(Encoding.UTF8.GetBytes(
            """{"model":"chat-only","system":"You count.","messages":[{"role":"user","content":"How many tokens is this sentence, exactly?"}]}"""),
            out var request, out var refusal), refusal?.Message);
        using (request)
        {
            Assert.Equal(Tokenization.UsageEstimator.CountInput(request!, model), count.InputTokens);
        }

        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "ok", "messages.count_tokens", (int?)null, 0L), (record.Decision, record.Reason, record.Endpoint, record.UpstreamStatus, record.CostNanos));
        Assert.Equal(default, record.Usage);
    }

    [Fact]
    public async Task CountTokens_PdfForAModelWithoutDocumentTokens_400ParamNotAllowed()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "sim-claude",
            Messages = [new UserMessageParam(new List<ContentBlockParam> { MessagesRefusalTests.Pdf(), new TextBlockParam("How long is it?") })],
        }));

        Assert.Equal("invalid_request_error", MessagesRefusalTests.ErrorType(e));
        Assert.Equal(Pipeline.Steps.ProtocolFitStep.DocumentsRefused("sim-claude").Message, MessagesRefusalTests.Message(e));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.ParamNotAllowed, 400, "messages.count_tokens"), (record.Decision, record.Reason, record.Status, record.Endpoint));
    }

    [Fact]
    public async Task RetrieveModel_WithAnthropicVersion_AnthropicShape_AndOutsideThePlanNotFound()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "clamp"), ids);

        var model = await client.Models.Retrieve("fake-claude");
        var e = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => client.Models.Retrieve("sim-claude"));

        Assert.Equal(("fake-claude", "fake-claude", DateTimeOffset.UnixEpoch), (model.ID, model.DisplayName, model.CreatedAt));
        Assert.Equal("not_found_error", MessagesRefusalTests.ErrorType(e));
    }

    // Records the anthropic-version the SDK sends.
    private sealed class VersionRecorder : DelegatingHandler
    {
        public string? Sent { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent = request.Headers.TryGetValues("anthropic-version", out var values) ? values.Single() : null;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
