using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Protocol;
using Tollgate.Protocols;
using Tollgate.Proxy;
using Tollgate.Upstreams;

namespace Tollgate.Tests.Pipeline;

/// <summary>
/// The pieces the request steps run on, in memory and without a server: a configuration, keys, quota and ledger
/// stores, the ledger writer on a fake clock, and request contexts over <see cref="DefaultHttpContext"/>s whose bodies
/// are memory streams. Each test builds its own.
/// </summary>
internal sealed class StepHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    private readonly Dictionary<HttpContext, CancellationTokenSource> _aborts = [];
    private readonly List<RequestContext> _contexts = [];
    private int _requests;

    public StepHarness(Action<TollgateOptions>? configure = null, IQuotaStore? quotas = null, ILedgerStore? ledgerStore = null)
    {
        Options = DefaultOptions();
        configure?.Invoke(Options);
        Assert.True(GatewayConfig.TryCreate(Options, out var config, out var errors), string.Join("; ", errors));
        Config = config!;
        Quotas = quotas ?? new InMemoryQuotaStore();
        LedgerStore = ledgerStore ?? new InMemoryLedgerStore();
        Ledger = new LedgerWriter(LedgerStore, () => Options.Ledger, Time, NullLogger<LedgerWriter>.Instance);
        var hasher = new KeyHasher([.. Enumerable.Range(0, 32).Select(i => (byte)(i * 5 + 1))]);
        Issuer = new ApiKeyIssuer(Keys, hasher, Time);
        Authenticate = new AuthenticateStep(new ApiKeyAuthenticator(Keys, hasher, Time));
        Admit = new AdmitStep(new AdmissionPolicy(Quotas, new TaskRegistry(), new BudgetWarnings()), Quotas, Ledger, LedgerStore, Time,
            NullLogger<HeldReservation>.Instance);
    }

    public FakeTimeProvider Time { get; } = new(Start);

    public TollgateOptions Options { get; }

    public GatewayConfig Config { get; }

    public InMemoryApiKeyStore Keys { get; } = new();

    public ApiKeyIssuer Issuer { get; }

    public IQuotaStore Quotas { get; }

    public ILedgerStore LedgerStore { get; }

    public LedgerWriter Ledger { get; }

    public AuthenticateStep Authenticate { get; }

    public AdmitStep Admit { get; }

    public static string ChatBody(string model = "chat-mini", string extra = "") =>
        "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me about the tides.\"}]" + extra + "}";

    /// <summary>
    /// Models: <c>chat-mini</c> (alias <c>mini</c>, $1/$2 per million), <c>chat-large</c>, <c>embed-small</c>, all on the
    /// <c>openai</c>-kind upstream <c>scripted</c>. Plans: <c>basic</c> (chat-mini and embed-small, 100 requests a minute,
    /// a million tokens a day), <c>premium</c> (every model), <c>one-per-minute</c> (chat-mini, one request a minute).
    /// </summary>
    public static TollgateOptions DefaultOptions() => new()
    {
        Upstreams = new(StringComparer.Ordinal)
        {
            ["scripted"] = new()
            {
                Kind = UpstreamKinds.OpenAI,
                BaseUrl = "http://127.0.0.1:9/v1",
                ResponseTimeout = TimeSpan.FromSeconds(30),
                IdleTimeout = TimeSpan.FromSeconds(30),
            },
        },
        Models = new(StringComparer.Ordinal)
        {
            ["chat-mini"] = new()
            {
                Aliases = ["mini"],
                Upstream = "scripted",
                UpstreamModel = "chat-mini-2025",
                Prices = new() { Input = 1m, Output = 2m },
                ContextWindow = 32_000,
                MaxOutputTokens = 4_096,
            },
            ["chat-large"] = new()
            {
                Upstream = "scripted",
                Prices = new() { Input = 10m, Output = 30m },
                ContextWindow = 64_000,
                MaxOutputTokens = 8_192,
            },
            ["embed-small"] = new()
            {
                Upstream = "scripted",
                Type = ModelTypes.Embedding,
                Prices = new() { Input = 0.1m, Output = 0m },
                ContextWindow = 8_192,
                MaxOutputTokens = 1,
                Encoding = "cl100k_base",
            },
        },
        Plans = new(StringComparer.Ordinal)
        {
            ["basic"] = new() { Models = ["chat-mini", "embed-small"], RequestsPerMinute = 100, TokensPerDay = 1_000_000 },
            ["premium"] = new() { Models = ["*"] },
            ["one-per-minute"] = new() { Models = ["chat-mini"], RequestsPerMinute = 1 },
        },
    };

    /// <summary>Creates a key for <c>acme/alice</c> on <paramref name="plan"/>; returns its id and secret.</summary>
    public async Task<(string Id, string Secret)> CreateKeyAsync(string plan = "basic")
    {
        var (key, secret) = await Issuer.CreateAsync(new ApiKeyIssuer.Request("acme", "alice", plan), CancellationToken.None);
        return (key.Id, secret);
    }

    /// <summary>A request to <paramref name="endpoint"/> (chat completions by default) with a JSON body, from 127.0.0.1.</summary>
    public RequestContext Context(string? body = null, ProtocolEndpoint? endpoint = null, string? bearer = null)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Loopback;
        http.Request.Method = HttpMethods.Post;
        http.Request.ContentType = "application/json";
        if (body is not null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(body);
            http.Request.Body = new MemoryStream(bytes);
            http.Request.ContentLength = bytes.Length;
        }

        if (bearer is not null)
        {
            http.Request.Headers.Authorization = "Bearer " + bearer;
        }

        http.Response.Body = new MemoryStream();
        var abort = new CancellationTokenSource();
        http.RequestAborted = abort.Token;
        _aborts[http] = abort;
        endpoint ??= ProtocolEndpoint.OpenAIChatCompletions;
        var context = new RequestContext(http, endpoint.AuditName, endpoint.Caller, Config, "req_step_" + Interlocked.Increment(ref _requests), Time.GetUtcNow());
        _contexts.Add(context);
        return context;
    }

    /// <summary>The caller's connection goes away (<see cref="HttpContext.RequestAborted"/> fires).</summary>
    public void CallerLeaves(RequestContext context) => _aborts[context.Http].Cancel();

    /// <summary>A caller on <paramref name="plan"/> and a request that passed authentication, reading, authorization and admission.</summary>
    public async Task<RequestContext> AdmittedAsync(string body, ProtocolEndpoint? endpoint = null, string plan = "basic")
    {
        var (_, secret) = await CreateKeyAsync(plan);
        var context = Context(body, endpoint, secret);
        endpoint ??= ProtocolEndpoint.OpenAIChatCompletions;
        var error = ReadRequestStep.CheckMediaType(context.Http.Request)
            ?? await Authenticate.RunAsync(context)
            ?? await ReadRequestStep.RunAsync(context, endpoint.Reader)
            ?? AuthorizeStep.Run(context)
            ?? await Admit.RunAsync(context);
        Assert.Null(error);
        Assert.NotNull(context.Reservation);
        return context;
    }

    /// <summary>Parses <paramref name="body"/> as a request to <paramref name="endpoint"/>.</summary>
    public static ModelRequest Parse(string body, ProtocolEndpoint? endpoint = null)
    {
        var reader = (endpoint ?? ProtocolEndpoint.OpenAIChatCompletions).Reader;
        Assert.True(reader.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        return request!;
    }

    /// <summary>An upstream answer whose headers arrived: status 200, <paramref name="content"/> as its body, no HTTP server.</summary>
    public UpstreamCall Call(Stream content, string mediaType, string upstream = "scripted", IUpstreamProtocol? protocol = null)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(content) };
        response.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        var options = Config.Options.Upstreams[upstream];
        var deadline = new CancellationTokenSource();
        var body = new UpstreamBody(content, options.IdleTimeout, deadline.Token);
        var client = new UpstreamClient(upstream, options, new HttpClient(), new Uri("http://127.0.0.1/"), null, new OpenAIUpstreamHandlerFactory());
        return new UpstreamCall(new UpstreamLease(client), new HttpRequestMessage(), response, deadline, default, body, options, protocol ?? OpenAIUpstreamProtocol.Instance,
            Config.Options.Gateway.AbandonedStreamUsageWait);
    }

    public UpstreamCall Call(string content, string mediaType = "application/json") => Call(new MemoryStream(Encoding.UTF8.GetBytes(content)), mediaType);

    /// <summary>What the step wrote to the caller.</summary>
    public static string ResponseText(RequestContext context) => Encoding.UTF8.GetString(((MemoryStream)context.Http.Response.Body).ToArray());

    public async ValueTask DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            if (context.Reservation is { } held)
            {
                await held.DisposeAsync();
            }

            context.Request?.Dispose();
        }

        foreach (var abort in _aborts.Values)
        {
            abort.Dispose();
        }

        await Ledger.DisposeAsync();
    }
}
