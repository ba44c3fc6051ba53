using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Upstreams;

namespace Tollgate.Tests.Pipeline;

/// <summary>
/// The forward step against an upstream on loopback: <see cref="UpstreamClients"/> builds its own socket handler for an
/// <c>openai</c> upstream, so the canned answers come from a small Kestrel app on 127.0.0.1 rather than a fake handler.
/// </summary>
public sealed class ForwardStepTests : IAsyncLifetime
{
    private const string UpstreamKey = "sk-upstream-0123456789abcdefghij";

    // Each test class instance reads its own variable, so parallel tests never see each other's.
    private readonly string _keyVariable = "TOLLGATE_FORWARD_TEST_KEY_" + Guid.NewGuid().ToString("N").ToUpperInvariant();
    private readonly ShutdownState _shutdown = new();
    private readonly ConcurrentQueue<Received> _received = new();
    private WebApplication _upstream = null!;
    private string _baseUrl = "";
    private StepHarness? _harness;
    private GatewayConfigMonitor? _monitor;
    private UpstreamClients? _clients;
    private ForwardStep _step = null!;

    /// <summary>The upstream's answer to the next request (by default a chat completion with usage).</summary>
    private Func<HttpContext, Task> _respond = http =>
    {
        http.Response.ContentType = "application/json";
        http.Response.Headers["x-request-id"] = "up_req_7";
        return http.Response.WriteAsync("{\"choices\":[{\"message\":{\"content\":\"ok\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}");
    };

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable(_keyVariable, UpstreamKey);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        _upstream = builder.Build();
        _upstream.MapPost("/v1/{**path}", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            string body = await reader.ReadToEndAsync();
            _received.Enqueue(new Received(http.Request.Path, new HeaderDictionary(http.Request.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase)), body));
            await _respond(http);
        });
        await _upstream.StartAsync();
        string address = _upstream.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        _baseUrl = address.TrimEnd('/') + "/v1";
    }

    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }

        _clients?.Dispose();
        _monitor?.Dispose();
        await _upstream.DisposeAsync();
        _shutdown.Dispose();
        Environment.SetEnvironmentVariable(_keyVariable, null);
    }

    [Fact]
    public async Task RunAsync_Answered_TheRewrittenBodyWithTheUpstreamsCredential()
    {
        var (context, call, error) = await ForwardAsync(StepHarness.ChatBody("mini"));

        await using (call)
        {
            Assert.Null(error);
            Assert.NotNull(call);
            Assert.False(call.IsEventStream);
            var (body, complete) = await call.Body.ReadAllAsync(1 << 20);
            Assert.True(complete);
            Assert.Contains("\"prompt_tokens\":3", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        }

        Assert.Equal((200, "up_req_7"), (context.UpstreamStatus, context.UpstreamRequestId));
        var sent = Assert.Single(_received);
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal(StepHarness.ChatBody("chat-mini-2025", ",\"max_completion_tokens\":4096"), sent.Body);
        Assert.Equal("Bearer " + UpstreamKey, sent.Headers.Authorization.ToString());
        Assert.Equal(context.RequestId, sent.Headers["x-client-request-id"].ToString());
        Assert.StartsWith("application/json", sent.Headers.ContentType.ToString(), StringComparison.Ordinal);
        string callerKey = context.Http.Request.Headers.Authorization.ToString()["Bearer ".Length..];
        Assert.DoesNotContain(sent.Headers, h => h.Value.ToString().Contains(callerKey, StringComparison.Ordinal));
        Assert.False(sent.Headers.ContainsKey("x-api-key"));
        Assert.Equal(UsageSource.None, context.Reservation!.Source);
    }

    [Fact]
    public async Task RunAsync_StreamRequest_AsksForAnEventStreamWithUsage()
    {
        _respond = http =>
        {
            http.Response.ContentType = "text/event-stream";
            return http.Response.WriteAsync("data: [DONE]\n\n");
        };
        var (_, call, _) = await ForwardAsync(StepHarness.ChatBody("chat-mini", ",\"max_tokens\":10,\"stream\":true"));

        await using (call)
        {
            Assert.True(call!.IsEventStream);
        }

        var sent = Assert.Single(_received);
        Assert.Equal("text/event-stream", sent.Headers.Accept.ToString());
        Assert.Equal(StepHarness.ChatBody("chat-mini-2025", ",\"max_tokens\":10,\"stream\":true,\"stream_options\":{\"include_usage\":true}"), sent.Body);
    }

    [Theory]
    [InlineData("20", 20)]
    [InlineData(null, null)]
    public async Task RunAsync_Upstream429_UpstreamRateLimitedWithItsRetryAfter(string? retryAfter, int? seconds)
    {
        _respond = http =>
        {
            http.Response.StatusCode = 429;
            if (retryAfter is not null)
            {
                http.Response.Headers.RetryAfter = retryAfter;
            }

            return Task.CompletedTask;
        };

        var (context, call, error) = await ForwardAsync();

        Assert.Null(call);
        Assert.Equal((429, ErrorCodes.UpstreamRateLimited), (error?.Status, error?.Code));
        Assert.Equal(seconds is null ? null : TimeSpan.FromSeconds(seconds.Value), error!.RetryAfter);
        Assert.Null(error.ShouldRetry);
        Assert.Equal(429, context.UpstreamStatus);
        Assert.Equal(UsageSource.None, context.Reservation!.Source);
    }

    [Fact]
    public async Task RunAsync_Upstream429WaitOverAMinute_DoNotRetry()
    {
        _respond = http =>
        {
            http.Response.StatusCode = 429;
            http.Response.Headers.RetryAfter = "3600";
            return Task.CompletedTask;
        };

        var (_, _, error) = await ForwardAsync();

        Assert.Equal((429, ErrorCodes.UpstreamRateLimited), (error?.Status, error?.Code));
        Assert.Null(error!.RetryAfter);
        Assert.False(error.ShouldRetry);
        Assert.Contains("1h", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Upstream400EchoingTheKey_RejectedRequestWithTheKeyRedacted()
    {
        _respond = http =>
        {
            http.Response.StatusCode = 400;
            http.Response.ContentType = "application/json";
            return http.Response.WriteAsync("{\"error\":{\"message\":\"Bad key " + UpstreamKey[..12] + " or " + UpstreamKey + "\",\"type\":\"invalid_request_error\"}}");
        };

        var (_, call, error) = await ForwardAsync();

        Assert.Null(call);
        Assert.Equal((400, ErrorTypes.InvalidRequest, ErrorCodes.UpstreamRejectedRequest), (error?.Status, error?.Type, error?.Code));
        Assert.Contains("Bad key [redacted]", error!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(UpstreamKey[..8], error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(401, "credentials")]
    [InlineData(503, "status 503")]
    public async Task RunAsync_UpstreamFailure_502(int status, string message)
    {
        _respond = http =>
        {
            http.Response.StatusCode = status;
            return Task.CompletedTask;
        };

        var (_, _, error) = await ForwardAsync();

        Assert.Equal((502, ErrorCodes.UpstreamError), (error?.Status, error?.Code));
        Assert.Contains(message, error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ConnectionRefused_502BilledByTheConnectFailureRuleNoneByDefault()
    {
        Use(ClosedPortUrl());

        var (context, call, error) = await ForwardAsync();

        Assert.Null(call);
        Assert.Equal((502, ErrorCodes.UpstreamError), (error?.Status, error?.Code));
        Assert.Contains("could not be reached", error!.Message, StringComparison.Ordinal);
        var held = context.Reservation!;
        Assert.Equal(("connect_failure:none", UsageSource.None, 0L), (held.Rule, held.Source, held.CostNanos));
        Assert.Null(context.UpstreamStatus);
        Assert.Empty(_received);
    }

    [Fact]
    public async Task RunAsync_ConnectionRefusedWithReservationRule_BilledTheReservation()
    {
        Use(ClosedPortUrl(), o => o.UnknownOutcomes.ConnectFailure = BillingRules.Reservation);

        var (context, _, error) = await ForwardAsync(StepHarness.ChatBody("chat-mini", ",\"max_tokens\":30"));

        var held = context.Reservation!;
        Assert.Equal(502, error?.Status);
        Assert.Equal(("connect_failure:reservation", UsageSource.Reserved), (held.Rule, held.Source));
        Assert.Equal(new TokenUsage(held.Admission.InputTokens, 0, 30, 0), held.Usage);
    }

    /// <summary>A request by a new key on the basic plan, admitted and forwarded.</summary>
    private async Task<(RequestContext Context, UpstreamCall? Call, GatewayError? Error)> ForwardAsync(string? body = null)
    {
        if (_harness is null)
        {
            Use();
        }

        var context = await _harness!.AdmittedAsync(body ?? StepHarness.ChatBody());
        var (call, error) = await _step.RunAsync(context);
        return (context, call, error);
    }

    /// <summary>The upstream <c>scripted</c> at <paramref name="baseUrl"/> (the loopback app by default), with its credential.</summary>
    private void Use(string? baseUrl = null, Action<UpstreamOptions>? upstream = null)
    {
        _harness = new StepHarness(o =>
        {
            var scripted = o.Upstreams["scripted"];
            scripted.BaseUrl = baseUrl ?? _baseUrl;
            scripted.ApiKeyEnv = _keyVariable;
            upstream?.Invoke(scripted);
        });
        _monitor = new GatewayConfigMonitor(new ConfigurationBuilder().Build(), _harness.Config, NullLogger<GatewayConfigMonitor>.Instance);
        _clients = new UpstreamClients([new OpenAIUpstreamHandlerFactory()]);
        _step = new ForwardStep(_clients, _shutdown);
    }

    /// <summary>A loopback URL nothing listens on: a port the system just handed out and took back.</summary>
    private static string ClosedPortUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/v1";
    }

    /// <summary>A request as the upstream received it.</summary>
    private sealed record Received(string Path, IHeaderDictionary Headers, string Body);
}
