using System.Net;
using System.Text.Json;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Every refusal as the official Anthropic .NET SDK surfaces it — Anthropic's error envelope and type, its status, the
/// retry headers it honours — and the ledger row each leaves; and cut and abandoned streams billed as for OpenAI.
/// </summary>
public sealed class AnthropicRefusalTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static MessageCreateParams Ask(string text, string model = "sim-claude", long maxTokens = 256) => new()
    {
        Model = model,
        MaxTokens = maxTokens,
        Messages = [new UserMessageParam(text)],
    };

    [Fact]
    public async Task Create_InvalidKey_401AuthenticationError()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic("tgk_not_a_real_key_at_all_000000000000000000", ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => client.Messages.Create(Ask("hello")));

        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
        Assert.Equal("authentication_error", ErrorType(e));
        Assert.Equal(requestId, e.RequestID);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.InvalidApiKey, 401), (record.Decision, record.Reason, record.Status));
    }

    [Fact]
    public async Task Create_ModelOutsideThePlan_403PermissionError()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(plan: "free"), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicForbiddenException>(() => client.Messages.Create(Ask("hello")));

        Assert.Equal(HttpStatusCode.Forbidden, e.StatusCode);
        Assert.Equal("permission_error", ErrorType(e));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.ModelNotAllowed), (record.Decision, record.Reason));
        Assert.Empty(_gateway.Simulator.Billing.All);
    }

    [Fact]
    public async Task Create_UnknownModel_404NotFoundError()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => client.Messages.Create(Ask("hello", model: "claude-nonexistent")));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Equal("not_found_error", ErrorType(e));
    }

    [Fact]
    public async Task Create_InvalidRequest_400InvalidRequestErrorNamingTheField()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(new MessageCreateParams
        {
            Model = "sim-claude",
            MaxTokens = 256,
            Messages = [],
        }));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_request_error", ErrorType(e));
        Assert.Contains("messages", e.ResponseBody, StringComparison.Ordinal);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(ErrorCodes.InvalidRequest, record.Reason);
    }

    [Fact]
    public async Task Create_RequestRateLimited_429RateLimitErrorWithRetryAfterInWholeSeconds()
    {
        var ids = new RequestIdHandler();
        var (_, key) = await _gateway.CreateKeyWithLimitsAsync("basic", new Dictionary<string, string> { ["RequestsPerMinute"] = "1" });
        var client = _gateway.Anthropic(key, ids);
        ids.Use();
        await client.Messages.Create(Ask("the first one"));
        string refused = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => client.Messages.Create(Ask("the second one")));

        Assert.Equal(HttpStatusCode.TooManyRequests, e.StatusCode);
        Assert.Equal("rate_limit_error", ErrorType(e));
        var (_, _, retryAfter, _) = ids.Sent.Single(s => s.RequestId == refused);
        Assert.True(int.TryParse(retryAfter, out int seconds) && seconds is >= 1 and <= 60, retryAfter);
        var record = await _gateway.AuditAsync(refused);
        Assert.Equal((Decisions.Refused, ErrorCodes.RateLimitExceeded, 429), (record.Decision, record.Reason, record.Status));
    }

    [Fact]
    public async Task Create_RateLimited_HeadersInAnthropicsShape()
    {
        var (_, key) = await _gateway.CreateKeyWithLimitsAsync("basic", new Dictionary<string, string> { ["RequestsPerMinute"] = "1" });
        using (var first = await PostAsync(key, """{"model":"sim-claude","max_tokens":32,"messages":[{"role":"user","content":"hi"}]}"""))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("1", first.Headers.GetValues("anthropic-ratelimit-requests-limit").Single());
            Assert.Equal("0", first.Headers.GetValues("anthropic-ratelimit-requests-remaining").Single());
            Assert.True(DateTimeOffset.TryParse(first.Headers.GetValues("anthropic-ratelimit-requests-reset").Single(), out _));
            Assert.Equal(first.Headers.GetValues("x-request-id").Single(), first.Headers.GetValues("request-id").Single());
        }

        using var refused = await PostAsync(key, """{"model":"sim-claude","max_tokens":32,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("0", refused.Headers.GetValues("anthropic-ratelimit-requests-remaining").Single());
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal("error", body.RootElement.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(2, body.RootElement.GetProperty("error").EnumerateObject().Count());
    }

    [Fact]
    public async Task Create_BudgetExhausted_429TheSdkDoesNotRetry()
    {
        var ids = new RequestIdHandler();
        var (_, key) = await _gateway.CreateKeyWithLimitsAsync("basic", new Dictionary<string, string> { ["BudgetPerDay"] = "0.000001" });
        // The SDK's own retries are on (its default count): a refusal that says not to retry must not be retried.
        var client = _gateway.Anthropic(key, ids, maxRetries: 2);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => client.Messages.Create(Ask("an expensive question")));

        Assert.Equal(HttpStatusCode.TooManyRequests, e.StatusCode);
        Assert.Equal("rate_limit_error", ErrorType(e));
        var attempt = Assert.Single(ids.Sent);
        Assert.Equal(("false", null), (attempt.ShouldRetry, attempt.RetryAfter));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.InsufficientQuota), (record.Decision, record.Reason));
        Assert.Empty(_gateway.Simulator.Billing.All);
    }

    [Fact]
    public async Task Create_UpstreamRateLimited_429AndNothingBilled()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => client.Messages.Create(Ask("busy [[sim:rate_limit]]")));

        Assert.Equal(HttpStatusCode.TooManyRequests, e.StatusCode);
        Assert.Equal("7", ids.Sent.Single().RetryAfter);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((ErrorCodes.UpstreamRateLimited, 0L), (record.Reason, record.CostNanos));
    }

    [Fact]
    public async Task Create_ModelOnAnUpstreamOfEmbeddingsOnly_400NamingTheProblem()
    {
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            c["Upstreams"]!["plain-openai"] = new System.Text.Json.Nodes.JsonObject
            {
                ["Kind"] = "openai",
                ["BaseUrl"] = "http://127.0.0.1:9/v1",
                ["Apis"] = new System.Text.Json.Nodes.JsonArray("embeddings"),
            };
            c["Models"]!["openai-only"] = new System.Text.Json.Nodes.JsonObject
            {
                ["Upstream"] = "plain-openai",
                ["Prices"] = new System.Text.Json.Nodes.JsonObject { ["Input"] = 1, ["Output"] = 2 },
            };
        });
        var ids = new RequestIdHandler();
        var client = gateway.Anthropic(await gateway.CreateKeyAsync(plan: "premium"), ids);
        string requestId = ids.Use();

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(Ask("hello", model: "openai-only")));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Contains("does not serve /v1/messages and speaks no API it translates to", e.ResponseBody, StringComparison.Ordinal);
        var record = await gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, ErrorCodes.ProtocolNotSupported, (string?)null), (record.Decision, record.Reason, record.ReservationId));
    }

    [Fact]
    public async Task Create_PriceChangingBetaNotCovered_400AndTheCoveredOneForwarded()
    {
        string key = await _gateway.CreateKeyAsync();
        using var refused = await PostAsync(key, """{"model":"sim-claude","max_tokens":32,"messages":[{"role":"user","content":"long"}]}""",
            ("anthropic-beta", "prompt-caching-2024-07-31, context-1m-2025-08-07"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(ErrorCodes.BetaNotAllowed, refused.Headers.GetValues("x-tollgate-error-code").Single());
        Assert.Contains("context-1m-2025-08-07", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var allowed = await PostAsync(key, """{"model":"sim-claude","max_tokens":32,"messages":[{"role":"user","content":"long"}]}""",
            ("anthropic-beta", "prompt-caching-2024-07-31"));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task CreateStreaming_CutByTheUpstream_ErrorEventAndBilledByTheUnknownOutcomeRule()
    {
        var ids = new RequestIdHandler();
        var client = _gateway.Anthropic(await _gateway.CreateKeyAsync(), ids);
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

        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal((4L, false), (bill.CompletionTokens, bill.Completed));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(ErrorCodes.UpstreamError, record.Reason);
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal("stream_cut_without_usage:estimate", record.BillingRule);
        // Counted from the four words relayed, with the approximate encoding's margin: never less than the truth.
        var model = _gateway.App.Services.GetRequiredService<Configuration.GatewayConfigMonitor>().Current.Models.Single(m => m.Name == "sim-claude");
        Assert.Equal(Tokenization.UsageEstimator.CountOutput(model, text.ToString()), record.Usage.OutputTokens);
        Assert.True(record.Usage.OutputTokens >= bill.CompletionTokens);
    }

    [Fact]
    public async Task Stream_CallerLeavesMidStream_GatewayReadsOnAndBillsTheUpstreamsUsage()
    {
        await using var gateway = await TestGateway.StartAsync();
        string key = await gateway.CreateKeyAsync();
        using var request = Json(key, """{"model":"sim-claude","max_tokens":1000,"stream":true,"messages":[{"role":"user","content":"a long one [[sim:tokens=300]] [[sim:pause=5:abandon]]"}]}""");
        request.Headers.Add("x-request-id", "anthropic-abandon-1");
        using var caller = gateway.LeavingClient();
        using (var response = await caller.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            int deltas = 0;
            while (deltas < 3 && await reader.ReadLineAsync() is { } line)
            {
                if (line == "event: content_block_delta")
                {
                    deltas++;
                }
            }

            await gateway.Simulator.Barrier.WaitForWaitingAsync("abandon", 1, CancellationToken.None);
            Assert.Null(gateway.Simulator.Billing.Find("anthropic-abandon-1"));
        } // the caller disconnects here, mid-stream

        await gateway.Departures.WaitAsync("anthropic-abandon-1");
        gateway.Simulator.Barrier.Release("abandon");

        var bill = await gateway.Simulator.Billing.WaitForAsync("anthropic-abandon-1", CancellationToken.None);
        AuditRecord? record = null;
        for (int i = 0; i < 200 && record is null; i++)
        {
            var records = await gateway.AuditRecordsAsync(new UsageQuery(RequestId: "anthropic-abandon-1"));
            record = records.Count > 0 ? records[0] : null;
            if (record is null)
            {
                await gateway.App.Services.GetRequiredService<Proxy.InFlightRequests>().WaitForDrainAsync(TimeSpan.FromMilliseconds(50), TimeProvider.System);
            }
        }

        Assert.NotNull(record);
        Assert.True(record.ClientAborted);
        Assert.Equal(AuditReasons.ClientAborted, record.Reason);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 300, 0), record.Usage);
        Assert.Equal(AnthropicMessagesTests.Cost(bill), record.CostNanos);
    }

    private static string? ErrorType(AnthropicApiException e)
    {
        using var body = JsonDocument.Parse(e.ResponseBody);
        Assert.Equal("error", body.RootElement.GetProperty("type").GetString());
        return body.RootElement.GetProperty("error").GetProperty("type").GetString();
    }

    private Task<HttpResponseMessage> PostAsync(string key, string body, params (string Name, string Value)[] headers)
    {
        var request = Json(key, body);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return _gateway.Http.SendAsync(request);
    }

    private static HttpRequestMessage Json(string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        return request;
    }
}
