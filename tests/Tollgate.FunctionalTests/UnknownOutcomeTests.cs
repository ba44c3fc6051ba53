using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// When the gateway cannot know what the upstream billed, the upstream's rule for that kind of outcome decides —
/// <c>reservation</c>, <c>estimate</c> or <c>none</c> — and the ledger records the charge and the rule.
/// </summary>
public sealed class UnknownOutcomeTests : IAsyncLifetime
{
    private const int MaxTokens = 100;
    private static readonly ModelPrice s_price = new(1_000_000, 1_000_000, 2_000_000);
    private ScriptedUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await ScriptedUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Theory]
    [InlineData(null, UsageSource.None)]
    [InlineData("reservation", UsageSource.Reserved)]
    [InlineData("estimate", UsageSource.Estimated)]
    public async Task ConnectFailure_IsBilledByItsRule(string? rule, UsageSource expected)
    {
        // A port nothing listens on: the connection is refused.
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        int port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var (record, status) = await RunAsync("ConnectFailure", rule, c => c["Upstreams"]!["scripted"]!["BaseUrl"] = $"http://127.0.0.1:{port}/v1");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        AssertBilled(record, expected, "connect_failure:" + (rule ?? "none"), output: 0);
    }

    [Theory]
    [InlineData(null, UsageSource.Reserved)]
    [InlineData("estimate", UsageSource.Estimated)]
    [InlineData("none", UsageSource.None)]
    public async Task TimeoutBeforeHeaders_IsBilledByItsRule(string? rule, UsageSource expected)
    {
        _upstream.Respond = (http, _) => Task.Delay(Timeout.Infinite, http.RequestAborted);
        var (record, status) = await RunAsync("TimeoutBeforeHeaders", rule, c => c["Upstreams"]!["scripted"]!["ResponseTimeout"] = "00:00:00.300");

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        AssertBilled(record, expected, "timeout_before_headers:" + (rule ?? "reservation"), output: 0);
    }

    [Theory]
    [InlineData(null, UsageSource.Reserved)]
    [InlineData("none", UsageSource.None)]
    public async Task ResetBeforeHeaders_IsBilledByItsRule(string? rule, UsageSource expected)
    {
        _upstream.Respond = (http, _) =>
        {
            http.Abort();
            return Task.CompletedTask;
        };
        var (record, status) = await RunAsync("ResetBeforeHeaders", rule);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        AssertBilled(record, expected, "reset_before_headers:" + (rule ?? "reservation"), output: 0);
    }

    [Theory]
    [InlineData(null, UsageSource.Estimated)]
    [InlineData("reservation", UsageSource.Reserved)]
    public async Task InvalidBody_IsBilledByItsRule(string? rule, UsageSource expected)
    {
        _upstream.Respond = (http, _) =>
        {
            http.Response.ContentType = "application/json";
            return http.Response.WriteAsync("<html>upstream proxy error: hello world</html>");
        };
        var (record, status) = await RunAsync("InvalidBody", rule);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        AssertBilled(record, expected, "invalid_body:" + (rule ?? "estimate"), output: rule is null ? -1 : 0);
    }

    [Theory]
    [InlineData(null, UsageSource.Estimated)]
    [InlineData("reservation", UsageSource.Reserved)]
    public async Task StreamCutWithoutUsage_IsBilledByItsRule(string? rule, UsageSource expected)
    {
        // The stream ends with neither usage nor [DONE].
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteStreamAsync(http, ["one", " two", " three"], finalUsageJson: null, done: false);
        var (record, status) = await RunAsync("StreamCutWithoutUsage", rule, stream: true);

        Assert.True(status == HttpStatusCode.OK, $"{status} {record.Reason} {record.UpstreamStatus}");
        Assert.Equal("upstream_error", record.Reason);
        AssertBilled(record, expected, "stream_cut_without_usage:" + (rule ?? "estimate"), output: rule is null ? 3 : 0);
    }

    private static void AssertBilled(AuditRecord record, UsageSource expected, string rule, long output)
    {
        Assert.Equal(expected, record.UsageSource);
        Assert.Equal(rule, record.BillingRule);
        switch (expected)
        {
            case UsageSource.None:
                Assert.Equal(default, record.Usage);
                Assert.Equal(0, record.CostNanos);
                break;
            case UsageSource.Reserved:
                Assert.Equal(MaxTokens, record.Usage.OutputTokens);
                Assert.True(record.Usage.InputTokens > 0);
                Assert.Equal(s_price.CostNanos(record.Usage), record.CostNanos);
                break;
            default:
                Assert.True(record.Usage.InputTokens > 0);
                if (output >= 0)
                {
                    Assert.Equal(output, record.Usage.OutputTokens);
                }
                else
                {
                    Assert.InRange(record.Usage.OutputTokens, 1, MaxTokens);
                }

                Assert.Equal(s_price.CostNanos(record.Usage), record.CostNanos);
                break;
        }
    }

    private async Task<(AuditRecord Record, HttpStatusCode Status)> RunAsync(string outcome, string? rule,
        Action<JsonObject>? configure = null, bool stream = false)
    {
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            _upstream.Configure(c);
            if (rule is not null)
            {
                c["Upstreams"]!["scripted"]!["UnknownOutcomes"] = new JsonObject { [outcome] = rule };
            }

            configure?.Invoke(c);
        });
        string key = await gateway.CreateKeyAsync();
        string body = $$"""{"model":"scripted-exact","max_tokens":{{MaxTokens}},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"What happened?"}]}""";
        using var response = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, body));
        _ = await response.Content.ReadAsStringAsync();
        var record = await gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(Decisions.Allowed, record.Decision);
        return (record, response.StatusCode);
    }
}
