using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Protocol;

namespace Tollgate.FunctionalTests.Messages;

/// <summary>
/// The refusals of <c>/v1/messages</c> that the request's size, shape, plan and the gateway's own state produce, as the
/// official Anthropic .NET SDK surfaces them (exception, status, Anthropic's error type, the message), each audited
/// under its reason code with nothing reserved, nothing sent to the simulator and nothing billed.
/// </summary>
public sealed class MessagesRefusalTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        c["Gateway"]!["MaxRequestBodyBytes"] = 4096;
        c["Models"]!["sim-claude-small"] = new JsonObject
        {
            ["Upstream"] = "simulator",
            ["Prices"] = new JsonObject { ["Input"] = 3.0, ["Output"] = 15.0 },
            ["ContextWindow"] = 4000,
            ["MaxOutputTokens"] = 4000,
            ["Encoding"] = "approximate",
        };
        c["Plans"]!["basic"]!["Models"]!.AsArray().Add("sim-claude-small");
    });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    internal static MessageCreateParams Ask(string text, string model = "sim-claude", long maxTokens = 256) => new()
    {
        Model = model,
        MaxTokens = maxTokens,
        Messages = [new UserMessageParam(text)],
    };

    [Fact]
    public async Task Create_BodyOverTheLimit_413RequestTooLarge()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicContentTooLargeException>(() => client.Messages.Create(Ask(new string('x', 5000))));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, e.StatusCode);
        Assert.Equal("request_too_large", ErrorType(e));
        await AssertRefusedAsync(_gateway, requestId, ErrorCodes.RequestTooLarge, 413);
    }

    [Fact]
    public async Task Create_CompressedBody_415InvalidRequestError()
    {
        var ids = new RequestIdHandler();
        var client = new global::Anthropic.AnthropicClient
        {
            BaseUrl = _gateway.Address.ToString().TrimEnd('/'),
            ApiKey = await _gateway.CreateKeyAsync(),
            MaxRetries = 0,
            HttpClient = new HttpClient(new ContentEncodingHandler("gzip") { InnerHandler = ids }),
        };
        string requestId = ids.Use();

        var e = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Messages.Create(Ask("hello")));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, e.StatusCode);
        Assert.Equal("invalid_request_error", ErrorType(e));
        await AssertRefusedAsync(_gateway, requestId, ErrorCodes.UnsupportedMediaType, 415);
    }

    [Fact]
    public async Task Create_ConcurrencyLimitReached_429RateLimitErrorAndTheHeldOneServed()
    {
        var ids = new RequestIdHandler();
        var (_, key) = await _gateway.CreateKeyWithLimitsAsync("basic", new Dictionary<string, string> { ["MaxConcurrentRequests"] = "1" });
        var client = _gateway.Anthropic(key, ids);
        string heldId = ids.Use();
        var held = client.Messages.Create(Ask("wait here [[sim:hold=messages-concurrency]]"));
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await _gateway.Simulator.Barrier.WaitForWaitingAsync("messages-concurrency", 1, timeout.Token);
        }

        string refusedId = ids.Use();
        var e = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => client.Messages.Create(Ask("and me")));
        _gateway.Simulator.Barrier.Release("messages-concurrency");
        var message = await held;

        Assert.Equal(HttpStatusCode.TooManyRequests, e.StatusCode);
        Assert.Equal("rate_limit_error", ErrorType(e));
        await AssertRefusedAsync(_gateway, refusedId, ErrorCodes.ConcurrencyLimitExceeded, 429);
        var bill = _gateway.Simulator.Billing.Find(heldId)!;
        Assert.Equal(bill.CompletionTokens, message.Usage.OutputTokens);
        Assert.Equal(AnthropicMessagesTests.Cost(bill), (await _gateway.AuditAsync(heldId)).CostNanos);
    }

    [Fact]
    public async Task Create_InputPlusMaxTokensOverTheContextWindow_400ContextLengthExceeded()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(Ask("A short question.", "sim-claude-small", 3999)));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_request_error", ErrorType(e));
        Assert.StartsWith("This model's context window is 4000 tokens: ", Message(e), StringComparison.Ordinal);
        Assert.EndsWith(" input + 3999 output is too many.", Message(e), StringComparison.Ordinal);
        await AssertRefusedAsync(_gateway, requestId, ErrorCodes.ContextLengthExceeded, 400);
    }

    [Fact]
    public async Task Create_MaxTokensOverThePlansCap_400MaxTokensTooLarge()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(Ask("Write an essay.", maxTokens: 5000)));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_request_error", ErrorType(e));
        Assert.Equal("plan basic: at most 4096 output tokens per request for 'sim-claude', requested 5000.", Message(e));
        await AssertRefusedAsync(_gateway, requestId, ErrorCodes.MaxTokensTooLarge, 400);
    }

    [Fact]
    public async Task Create_RepetitiveInput_400RepetitiveInput()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(Ask("Repeat this 10000 times: buy now")));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_request_error", ErrorType(e));
        Assert.StartsWith("The input is repetitive or asks for amplification (", Message(e), StringComparison.Ordinal);
        await AssertRefusedAsync(_gateway, requestId, ErrorCodes.RepetitiveInput, 400);
    }

    [Fact]
    public async Task Create_PdfDocumentForAModelWithoutDocumentTokens_400ParamNotAllowed()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(new MessageCreateParams
        {
            Model = "sim-claude",
            MaxTokens = 64,
            Messages = [new UserMessageParam(new List<ContentBlockParam> { Pdf(), new TextBlockParam("Summarize the document.") })],
        }));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_request_error", ErrorType(e));
        Assert.Equal(Pipeline.Steps.ProtocolFitStep.DocumentsRefused("sim-claude").Message, Message(e));
        await AssertRefusedAsync(_gateway, requestId, ErrorCodes.ParamNotAllowed, 400);
    }

    [Fact]
    public async Task BetaCreate_PriceChangingBetaNotCovered_400InvalidRequestErrorNamingTheBeta()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Beta.Messages.Create(new global::Anthropic.Models.Beta.Messages.MessageCreateParams
        {
            Model = "sim-claude",
            MaxTokens = 32,
            Messages = [new global::Anthropic.Models.Beta.Messages.BetaUserMessageParam("a long one")],
            Betas = ["context-1m-2025-08-07"],
        }));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_request_error", ErrorType(e));
        Assert.Contains("context-1m-2025-08-07", Message(e), StringComparison.Ordinal);
        await AssertRefusedAsync(_gateway, requestId, ErrorCodes.BetaNotAllowed, 400);
    }

    [Fact]
    public async Task Create_UpstreamFails_502ApiErrorAndNothingBilled()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Messages.Create(Ask("break [[sim:error]]")));

        Assert.Equal(HttpStatusCode.BadGateway, e.StatusCode);
        Assert.Equal("api_error", ErrorType(e));
        Assert.Equal("The upstream for 'sim-claude' failed with status 500.", Message(e));
        var record = await _gateway.AuditAsync(requestId);
        // Admitted and forwarded, then failed: a 500 is known to be unbilled, so the reservation is released unbilled.
        Assert.Equal((Decisions.Allowed, ErrorCodes.UpstreamError, 502, 500), (record.Decision, record.Reason, record.Status, record.UpstreamStatus));
        Assert.Equal((0L, default(Pricing.TokenUsage)), (record.CostNanos, record.Usage));
        Assert.Null(_gateway.Simulator.Billing.Find(requestId));
    }

    [Fact]
    public async Task Create_QueueFull_503OverloadedError()
    {
        await using var gateway = await SheddingTests.StartAsync(capacity: 1, queueLength: 1);
        string key = await gateway.CreateKeyAsync(plan: "open");
        var holder = SheddingTests.SendAsync(gateway, key, "messages-held", "[[sim:hold=messages-full]]");
        await SheddingTests.HeldAsync(gateway, "messages-full", 1);
        var queued = SheddingTests.SendAsync(gateway, key, "messages-queued", "");
        await SheddingTests.EventuallyAsync(() => SheddingTests.Scheduler(gateway).Waiting == 1);
        var ids = new RequestIdHandler();
        var client = gateway.Anthropic(key, ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Messages.Create(Ask("let me in")));
        gateway.Simulator.Barrier.Release("messages-full");
        using (var held = await holder)
        using (var served = await queued)
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (held.StatusCode, served.StatusCode));
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.Equal("overloaded_error", ErrorType(e));
        Assert.Equal("1", ids.Sent.Single().RetryAfter);
        await AssertRefusedAsync(gateway, requestId, ErrorCodes.Overloaded, 503);
    }

    [Fact]
    public async Task Create_CircuitOpen_503OverloadedErrorBeforeReserving()
    {
        await using var gateway = await TestGateway.StartAsync(c => c["Upstreams"]!["simulator"]!["CircuitBreaker"] = new JsonObject
        {
            ["FailureRatio"] = 0.5,
            ["MinimumThroughput"] = 2,
            ["SamplingDuration"] = "00:00:30",
            ["BreakDuration"] = "00:00:30",
        });
        var ids = new RequestIdHandler();
        var client = gateway.Anthropic(await gateway.CreateKeyAsync(), ids);
        for (int i = 0; i < 2; i++)
        {
            ids.Use();
            var failed = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Messages.Create(Ask("break [[sim:error]]")));
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        int calls = gateway.Simulator.Billing.All.Count;
        string requestId = ids.Use();

        var e = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Messages.Create(Ask("fine")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.Equal("overloaded_error", ErrorType(e));
        Assert.StartsWith("The upstream for 'sim-claude' is failing; requests to it are paused for ", Message(e), StringComparison.Ordinal);
        Assert.Equal(calls, gateway.Simulator.Billing.All.Count);
        await AssertRefusedAsync(gateway, requestId, ErrorCodes.UpstreamUnavailable, 503);
    }

    [Fact]
    public async Task Create_UpstreamQuotaUsedUp_429RateLimitErrorWithoutCallingIt()
    {
        await using var gateway = await TestGateway.StartAsync(c => c["Upstreams"]!["simulator"]!["Limits"] = new JsonObject { ["RequestsPerMinute"] = 1 });
        var ids = new RequestIdHandler();
        var client = gateway.Anthropic(await gateway.CreateKeyAsync(), ids);
        ids.Use();
        await client.Messages.Create(Ask("the only one"));
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => client.Messages.Create(Ask("one more")));

        Assert.Equal(HttpStatusCode.TooManyRequests, e.StatusCode);
        Assert.Equal("rate_limit_error", ErrorType(e));
        string? retryAfter = ids.Sent.Last().RetryAfter;
        Assert.True(int.TryParse(retryAfter, out int seconds) && seconds is >= 1 and <= 60, retryAfter);
        Assert.Single(gateway.Simulator.Billing.All);
        await AssertRefusedAsync(gateway, requestId, ErrorCodes.UpstreamQuotaExceeded, 429);
    }

    internal static DocumentBlockParam Pdf() => new(new Base64PdfSource("JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK"));

    internal static string? ErrorType(AnthropicApiException e)
    {
        using var body = JsonDocument.Parse(e.ResponseBody);
        Assert.Equal("error", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(2, body.RootElement.GetProperty("error").EnumerateObject().Count());
        return body.RootElement.GetProperty("error").GetProperty("type").GetString();
    }

    internal static string? Message(AnthropicApiException e)
    {
        using var body = JsonDocument.Parse(e.ResponseBody);
        return body.RootElement.GetProperty("error").GetProperty("message").GetString();
    }

    // Refused before anything was reserved or forwarded: no reservation, no upstream call, no cost, no bill.
    internal static async Task AssertRefusedAsync(TestGateway gateway, string requestId, string reason, int status)
    {
        var record = await gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, reason, status), (record.Decision, record.Reason, record.Status));
        Assert.Equal(((string?)null, (int?)null, 0L, default(Pricing.TokenUsage)), (record.ReservationId, record.UpstreamStatus, record.CostNanos, record.Usage));
        Assert.Null(gateway.Simulator.Billing.Find(requestId));
    }

    // What a proxy that compresses request bodies would send: the caller's body marked as encoded.
    private sealed class ContentEncodingHandler(string encoding) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Content?.Headers.ContentEncoding.Add(encoding);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
