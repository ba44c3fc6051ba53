using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tollgate.Limits;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocols;
using Tollgate.Protocols.OpenAI;
using Tollgate.Proxy;

namespace Tollgate.Tests.Protocols;

public sealed class OpenAICallerProtocolTests
{
    private static readonly DateTimeOffset _now = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly OpenAICallerProtocol _protocol = OpenAICallerProtocol.Instance;
    private static readonly Scope _key = new(ScopeKind.Key, "k:key_1", "key key_1", TimeZoneInfo.Utc);

    [Fact]
    public async Task WriteErrorAsync_Refusal_StatusRetryHeadersAndOpenAIErrorBody()
    {
        var http = Http();
        var error = new GatewayError(429, "requests", ErrorCodes.RateLimitExceeded, "key key_1: slow down.") { RetryAfter = TimeSpan.FromSeconds(20) };

        await _protocol.WriteErrorAsync(http, error);

        Assert.Equal((429, "application/json"), (http.Response.StatusCode, http.Response.ContentType));
        Assert.Equal(("20", "20000"), (http.Response.Headers.RetryAfter.ToString(), http.Response.Headers["retry-after-ms"].ToString()));
        Assert.False(http.Response.Headers.ContainsKey("WWW-Authenticate"));
        string body = Body(http);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), http.Response.ContentLength);
        Assert.Equal("{\"error\":{\"message\":\"key key_1: slow down.\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}", body);
    }

    [Fact]
    public async Task WriteErrorAsync_Unauthorized_WwwAuthenticateBearer()
    {
        var http = Http();

        await _protocol.WriteErrorAsync(http, new GatewayError(401, ErrorTypes.Authentication, ErrorCodes.InvalidApiKey, "Incorrect API key provided."));

        Assert.Equal(401, http.Response.StatusCode);
        Assert.Equal("Bearer", http.Response.Headers.WWWAuthenticate.ToString());
        Assert.False(http.Response.Headers.ContainsKey("Retry-After"));
        using var document = JsonDocument.Parse(Body(http));
        Assert.Equal("invalid_api_key", document.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task WriteErrorAsync_DoNotRetryWithLimits_ShouldRetryFalseAndTheRefusingLimit()
    {
        var http = Http();
        var perDay = new LimitCheck(_key, Metric.Requests, Window.Day, 1_000, 1, 0);
        var error = new GatewayError(429, "requests", ErrorCodes.RateLimitExceeded, "key key_1: limit reached.", "model")
        {
            ShouldRetry = false,
            Limits = [new LimitStatus(perDay, 0, TimeSpan.FromHours(3), _now.AddHours(3))],
            RefusedBy = perDay,
        };

        await _protocol.WriteErrorAsync(http, error);

        Assert.Equal("false", http.Response.Headers["x-should-retry"].ToString());
        Assert.False(http.Response.Headers.ContainsKey("Retry-After"));
        Assert.Equal(("1000", "0"), (http.Response.Headers["x-ratelimit-limit-requests"].ToString(), http.Response.Headers["x-ratelimit-remaining-requests"].ToString()));
        using var document = JsonDocument.Parse(Body(http));
        Assert.Equal("model", document.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public void ErrorEvent_Error_OneSseEventWithTheErrorObject()
    {
        var error = new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, "The stream was cut.\n\nretry");

        string sse = Encoding.UTF8.GetString(_protocol.ErrorEvent(error).Span);

        Assert.StartsWith("data: {", sse, StringComparison.Ordinal);
        Assert.EndsWith("}\n\n", sse, StringComparison.Ordinal);
        Assert.Equal(sse.Length - 2, sse.IndexOf("\n\n", StringComparison.Ordinal));
        using var document = JsonDocument.Parse(sse[6..]);
        var body = document.RootElement.GetProperty("error");
        Assert.Equal(("The stream was cut.\n\nretry", "server_error", "upstream_error"),
            (body.GetProperty("message").GetString(), body.GetProperty("type").GetString(), body.GetProperty("code").GetString()));
    }

    [Fact]
    public void UsageEvent_CallerDidNotAskForUsage_Empty()
    {
        using var request = Parse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}");
        byte[] data = UsageData();

        Assert.True(_protocol.UsageEvent(request, data, ResponseScanner.Scan(data, null), 1_234).IsEmpty);
    }

    [Fact]
    public void UsageEvent_CallerAskedForUsage_TheEventWithTheCost()
    {
        using var request = Parse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        byte[] data = UsageData();

        string sse = Encoding.UTF8.GetString(_protocol.UsageEvent(request, data, ResponseScanner.Scan(data, null), 1_234).Span);

        Assert.Equal("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"cost_nanousd\":1234}}\n\n", sse);
    }

    [Fact]
    public void UsageEvent_UsageNotAnObject_Empty()
    {
        using var request = Parse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        byte[] data = "{\"choices\":[],\"usage\":7}"u8.ToArray();

        Assert.True(_protocol.UsageEvent(request, data, ResponseScanner.Scan(data, null), 1_234).IsEmpty);
    }

    [Theory]
    [InlineData(ApiEndpoint.ChatCompletions, "chat.completion.chunk")]
    [InlineData(ApiEndpoint.Completions, "text_completion")]
    public void EstimatedUsageEvent_Usage_ValidJsonMarkedEstimatedWithTheEndpointsObject(ApiEndpoint endpoint, string objectName)
    {
        var usage = new EstimatedUsage("req_9", endpoint, "chat-mini", new TokenUsage(12, 0, 30, 0), 72_000);

        string sse = Encoding.UTF8.GetString(_protocol.EstimatedUsageEvent(usage).Span);

        Assert.StartsWith("data: ", sse, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", sse, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(sse[6..^2]);
        var root = document.RootElement;
        Assert.Equal((objectName, "chat-mini", 0), (root.GetProperty("object").GetString(), root.GetProperty("model").GetString(), root.GetProperty("choices").GetArrayLength()));
        Assert.Contains("req_9", root.GetProperty("id").GetString(), StringComparison.Ordinal);
        var counts = root.GetProperty("usage");
        Assert.True(counts.GetProperty("estimated").GetBoolean());
        Assert.Equal((12L, 30L, 42L, 72_000L), (counts.GetProperty("prompt_tokens").GetInt64(), counts.GetProperty("completion_tokens").GetInt64(),
            counts.GetProperty("total_tokens").GetInt64(), counts.GetProperty("cost_nanousd").GetInt64()));
    }

    [Fact]
    public void EndOfStream_DoneEvent()
    {
        Assert.Equal("data: [DONE]\n\n", Encoding.UTF8.GetString(_protocol.EndOfStream.Span));
        Assert.StartsWith("text/event-stream", _protocol.StreamContentType, StringComparison.Ordinal);
    }

    [Fact]
    public void WithCost_Body_CostAddedToTheUsageObject()
    {
        byte[] body = "{\"id\":\"c\",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}"u8.ToArray();

        var answer = _protocol.WithCost(body, ResponseScanner.Scan(body, null), 99);

        Assert.Equal("{\"id\":\"c\",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"cost_nanousd\":99}}", Encoding.UTF8.GetString(answer.Span));
    }

    [Fact]
    public void WriteLimits_StatusesAndWarning_RateLimitHeadersAndTheBudgetWarning()
    {
        var headers = new HeaderDictionary();
        var perMinute = new LimitCheck(_key, Metric.Requests, Window.Minute, 60, 1, 0);

        _protocol.WriteLimits(headers, [new LimitStatus(perMinute, 59, TimeSpan.FromSeconds(30), _now.AddSeconds(30))], "tenant acme: 85% of the daily budget used");

        Assert.Equal(("60", "59"), (headers["x-ratelimit-limit-requests"].ToString(), headers["x-ratelimit-remaining-requests"].ToString()));
        Assert.Equal("tenant acme: 85% of the daily budget used", headers[RateLimitHeaders.BudgetWarning].ToString());
    }

    [Fact]
    public void WriteLimits_NoWarning_NoWarningHeader()
    {
        var headers = new HeaderDictionary();

        _protocol.WriteLimits(headers, [], null);

        Assert.False(headers.ContainsKey(RateLimitHeaders.BudgetWarning));
    }

    private static DefaultHttpContext Http()
    {
        var http = new DefaultHttpContext();
        http.Response.Body = new MemoryStream();
        return http;
    }

    private static string Body(HttpContext http) => Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());

    private static byte[] UsageData() => "{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}"u8.ToArray();

    private static ModelRequest Parse(string body)
    {
        Assert.True(ProtocolEndpoint.OpenAIChatCompletions.Reader.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        return request!;
    }
}
