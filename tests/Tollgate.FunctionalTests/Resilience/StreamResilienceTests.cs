using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests.Resilience;

/// <summary>
/// A stream whose 200 went out: keep-alives cover a long time to first token (on the injected clock), and the upstream's
/// TotalTimeout ends a call that runs too long, with an error event once the stream started.
/// </summary>
public sealed class StreamResilienceTests
{
    [Fact]
    public async Task LongTimeToFirstToken_IsCoveredByKeepAlives_ThenTheAnswerArrives()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        await using var gateway = await ResilienceSetup.StartAsync(c =>
        {
            c["Upstreams"]!["simulator"]!["Simulator"] = new JsonObject { ["TimeToFirstToken"] = "00:00:45", ["TimePerToken"] = "00:00:00" };
            c["Gateway"]!["StreamKeepAliveInterval"] = "00:00:10";
        }, time);
        var (keyId, key) = await gateway.CreateKeyWithIdAsync();

        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Think hard. [[sim:tokens=3]]", stream: true), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: {", await reader.ReadLineAsync());
        Assert.Equal("", await reader.ReadLineAsync());

        // Each 10 s of silence brings one keep-alive comment; the first token comes at 45 s.
        for (int i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            Assert.Equal(": keep-alive", await reader.ReadLineAsync());
            Assert.Equal("", await reader.ReadLineAsync());
        }

        time.Advance(TimeSpan.FromSeconds(5));
        string rest = await reader.ReadToEndAsync();
        Assert.DoesNotContain("keep-alive", rest, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
        var record = await gateway.AuditAsync(response.RequestId());
        Assert.Equal(("ok", 3L), (record.Reason, record.Usage.OutputTokens));
        await gateway.AssertNothingHeldAsync(keyId);
    }

    [Fact]
    public async Task TotalTimeout_CutsAStreamThatRunsTooLong_WithAnErrorEvent()
    {
        await using var gateway = await ResilienceSetup.StartAsync(c =>
        {
            c["Upstreams"]!["simulator"]!["Simulator"] = new JsonObject { ["TimeToFirstToken"] = "00:00:00", ["TimePerToken"] = "00:00:00.100" };
            c["Upstreams"]!["simulator"]!["TotalTimeout"] = "00:00:00.500";
        });
        var (keyId, key) = await gateway.CreateKeyWithIdAsync();

        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Go on. [[sim:tokens=200]]", stream: true, maxTokens: 300));
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(body.Contains("\"code\":\"upstream_timeout\"", StringComparison.Ordinal), body[^Math.Min(400, body.Length)..]);
        Assert.Contains("total timeout", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var record = await gateway.AuditAsync(response.RequestId());
        Assert.Equal(("upstream_timeout", "stream_cut_without_usage:estimate"), (record.Reason, record.BillingRule));
        Assert.InRange(record.Usage.OutputTokens, 1, 199);
        await gateway.AssertNothingHeldAsync(keyId);
    }

    [Fact]
    public async Task TotalTimeout_ShorterThanResponseTimeout_BoundsTheWaitForHeaders()
    {
        await using var gateway = await ResilienceSetup.StartAsync(c => c["Upstreams"]!["simulator"]!["TotalTimeout"] = "00:00:00.300");
        var (keyId, key) = await gateway.CreateKeyWithIdAsync();

        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Wait. [[sim:hang]]"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var (_, code, message) = await ChatCompletionTests.ErrorAsync(response);
        Assert.Equal("upstream_timeout", code);
        Assert.Contains("within 0.3 s", message, StringComparison.Ordinal);
        var record = await gateway.AuditAsync(response.RequestId());
        Assert.Equal((Decisions.Allowed, "timeout_before_headers:reservation"), (record.Decision, record.BillingRule));
        await gateway.AssertNothingHeldAsync(keyId);
    }
}
