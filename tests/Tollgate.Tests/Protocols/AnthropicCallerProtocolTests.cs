using System.Text;
using Microsoft.AspNetCore.Http;
using Tollgate.Limits;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocols;
using Tollgate.Protocols.Anthropic;

namespace Tollgate.Tests.Protocols;

public sealed class AnthropicCallerProtocolTests
{
    private static readonly DateTimeOffset _now = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly AnthropicCallerProtocol _protocol = AnthropicCallerProtocol.Instance;
    private static readonly Scope _key = new(ScopeKind.Key, "k:key_1", "key key_1", TimeZoneInfo.Utc);

    [Fact]
    public void KeepAlive_IsAnthropicsPingEvent()
    {
        string text = Encoding.UTF8.GetString(_protocol.KeepAlive.Span);

        Assert.Equal("event: ping\ndata: {\"type\": \"ping\"}\n\n", text);
    }

    [Fact]
    public async Task WriteErrorAsync_GatewayOverloaded_OverloadedErrorWithRetryAfterOne()
    {
        var http = Http();

        await _protocol.WriteErrorAsync(http, new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.Overloaded, "The gateway is overloaded.") { RetryAfter = TimeSpan.FromSeconds(1) });

        Assert.Equal(503, http.Response.StatusCode);
        Assert.Contains("\"type\":\"overloaded_error\"", Body(http), StringComparison.Ordinal);
        Assert.Equal("1", http.Response.Headers.RetryAfter.ToString());
    }

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(413, "request_too_large")]
    [InlineData(415, "invalid_request_error")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(502, "api_error")]
    [InlineData(503, "overloaded_error")]
    [InlineData(504, "api_error")]
    public async Task WriteErrorAsync_EachStatus_AnthropicsEnvelopeAndErrorType(int status, string type)
    {
        var http = Http();

        await _protocol.WriteErrorAsync(http, new GatewayError(status, "whatever", "some_code", "What went wrong."));

        Assert.Equal(status, http.Response.StatusCode);
        Assert.Equal($$$"""{"type":"error","error":{"type":"{{{type}}}","message":"What went wrong."}}""", Body(http));
        Assert.Equal("some_code", http.Response.Headers[AnthropicErrorWriter.CodeHeader].ToString());
    }

    [Fact]
    public async Task WriteErrorAsync_LimitRefusal_RetryAfterInWholeSecondsAndAnthropicLimitHeaders()
    {
        var http = Http();
        var perMinute = new LimitCheck(_key, Metric.Requests, Window.Minute, 60, 1, 0);
        var error = new GatewayError(429, "requests", ErrorCodes.RateLimitExceeded, "slow down")
        {
            RetryAfter = TimeSpan.FromMilliseconds(12_300),
            Limits = [new LimitStatus(perMinute, 0, TimeSpan.FromSeconds(12.3), _now.AddSeconds(12.3))],
            RefusedBy = perMinute,
        };

        await _protocol.WriteErrorAsync(http, error);

        var headers = http.Response.Headers;
        Assert.Equal("13", headers.RetryAfter.ToString());
        Assert.Equal("60", headers["anthropic-ratelimit-requests-limit"].ToString());
        Assert.Equal("0", headers["anthropic-ratelimit-requests-remaining"].ToString());
        Assert.Equal("2026-03-02T10:00:13Z", headers["anthropic-ratelimit-requests-reset"].ToString());
    }

    [Fact]
    public async Task WriteErrorAsync_WaitLongerThanAMinute_ToldNotToRetry()
    {
        var http = Http();

        await _protocol.WriteErrorAsync(http, new GatewayError(429, "requests", ErrorCodes.RateLimitExceeded, "tomorrow") { RetryAfter = TimeSpan.FromHours(3) });

        Assert.False(http.Response.Headers.ContainsKey("retry-after"));
        Assert.Equal("false", http.Response.Headers["x-should-retry"].ToString());
    }

    [Fact]
    public void WriteLimits_TokensInputAndOutputTokens_WithRfc3339Resets()
    {
        var headers = new HeaderDictionary();
        var tokens = new LimitCheck(_key, Metric.Tokens, Window.Minute, 1000, 10, 1);
        var input = new LimitCheck(_key, Metric.InputTokens, Window.Day, 5000, 10, 0);
        var output = new LimitCheck(_key, Metric.OutputTokens, Window.Day, 7000, 0, 1);

        _protocol.WriteLimits(headers,
        [
            new LimitStatus(tokens, 900, TimeSpan.FromSeconds(30), _now.AddSeconds(30)),
            new LimitStatus(input, 4000, TimeSpan.FromHours(14), _now.AddHours(14)),
            new LimitStatus(output, 6000, TimeSpan.FromHours(14), _now.AddHours(14)),
        ], "85% of the budget used");

        Assert.Equal(("1000", "900", "2026-03-02T10:00:30Z"), (headers["anthropic-ratelimit-tokens-limit"].ToString(),
            headers["anthropic-ratelimit-tokens-remaining"].ToString(), headers["anthropic-ratelimit-tokens-reset"].ToString()));
        Assert.Equal("4000", headers["anthropic-ratelimit-input-tokens-remaining"].ToString());
        Assert.Equal("2026-03-03T00:00:00Z", headers["anthropic-ratelimit-output-tokens-reset"].ToString());
        Assert.Equal("85% of the budget used", headers["x-tollgate-budget-warning"].ToString());
        Assert.False(headers.ContainsKey("x-ratelimit-limit-requests"));
    }

    [Fact]
    public void ErrorEvent_NamedErrorEventWithTheEnvelope()
    {
        string text = Encoding.UTF8.GetString(_protocol.ErrorEvent(new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, "cut")).Span);

        Assert.Equal("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"cut\"}}\n\n", text);
    }

    [Fact]
    public void EndOfStream_MessageStop() =>
        Assert.Equal("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", Encoding.UTF8.GetString(_protocol.EndOfStream.Span));

    [Fact]
    public void UsageEvent_MessageDeltaRelayedWithTheCost()
    {
        byte[] data = """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"""u8.ToArray();
        var scan = AnthropicUpstreamProtocol.Instance.OpenStream().ReadEvent(data, null);

        string text = Encoding.UTF8.GetString(_protocol.UsageEvent(null!, data, scan, 1234).Span);

        Assert.Equal("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9,\"cost_nanousd\":1234}}\n\n", text);
    }

    [Fact]
    public void WithCost_WholeMessage_CostAddedToItsUsage()
    {
        byte[] body = """{"type":"message","content":[],"usage":{"input_tokens":3,"output_tokens":2}}"""u8.ToArray();
        var scan = AnthropicUpstreamProtocol.Instance.ReadResponse(body, null);

        Assert.Equal("""{"type":"message","content":[],"usage":{"input_tokens":3,"output_tokens":2,"cost_nanousd":77}}""",
            Encoding.UTF8.GetString(_protocol.WithCost(body, scan, 77).Span));
    }

    [Fact]
    public void EstimatedUsageEvent_MessageDeltaMarkedEstimated()
    {
        var usage = new EstimatedUsage("req_1", ApiEndpoint.Messages, "sim-claude", new TokenUsage(10, 0, 4, 0), 99);

        string text = Encoding.UTF8.GetString(_protocol.EstimatedUsageEvent(usage).Span);

        Assert.StartsWith("event: message_delta\ndata: {\"type\":\"message_delta\"", text, StringComparison.Ordinal);
        Assert.Contains("\"usage\":{\"input_tokens\":10,\"output_tokens\":4,\"cost_nanousd\":99,\"estimated\":true}", text, StringComparison.Ordinal);
    }

    private static DefaultHttpContext Http()
    {
        var http = new DefaultHttpContext();
        http.Response.Body = new MemoryStream();
        return http;
    }

    private static string Body(HttpContext http) => Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());
}
