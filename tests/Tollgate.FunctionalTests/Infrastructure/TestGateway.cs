using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenAI;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Identity;
using Tollgate.Simulator;

namespace Tollgate.FunctionalTests.Infrastructure;

/// <summary>
/// A real gateway on loopback (Kestrel on 127.0.0.1:0, SQLite in a temp directory, the in-process simulator as
/// upstream), with helpers to create keys, build official OpenAI clients, and read the ledger.
/// </summary>
internal sealed class TestGateway : IAsyncDisposable
{
    private readonly GatewayApp _app;

    private TestGateway(GatewayApp app, string directory, TimeProvider time, LogCapture logs, CallerDepartures departures)
    {
        _app = app;
        Departures = departures;
        Directory = directory;
        Time = time;
        Logs = logs;
        Http = new HttpClient { BaseAddress = app.Address };
    }

    public string Directory { get; }

    public TimeProvider Time { get; }

    public LogCapture Logs { get; }

    /// <summary>When the server saw a caller leave, by request id.</summary>
    public CallerDepartures Departures { get; }

    public HttpClient Http { get; }

    public Uri Address => _app.Address;

    /// <summary>
    /// A client that closes its connection when a response is disposed unread, as a caller that leaves does (the
    /// default handler instead reads the rest of a response, up to a size and a time, to reuse the connection).
    /// </summary>
    public HttpClient LeavingClient() => new(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = Address };

    public Uri? MetricsAddress => _app.MetricsAddress;

    public GatewayApp App => _app;

    public string ConfigPath => Path.Combine(Directory, "tollgate.json");

    public SimulatorEngine Simulator => _app.Services.GetRequiredService<SimulatorUpstreamHandlerFactory>().Engine("simulator");

    /// <summary>When false, <see cref="DisposeAsync"/> keeps the data directory (to restart on it).</summary>
    public bool DeleteOnDispose { get; set; } = true;

    public static async Task<TestGateway> StartAsync(Action<JsonObject>? configure = null, TimeProvider? time = null, Action<IServiceCollection>? services = null, string? directory = null)
    {
        directory ??= Path.Combine(Path.GetTempPath(), "tollgate-test-" + Guid.NewGuid().ToString("n")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var root = JsonNode.Parse(ConfigurationLoader.ReadDefault())!.AsObject();
        var tollgate = root["Tollgate"]!.AsObject();
        tollgate["Upstreams"]!["simulator"]!["Simulator"] = new JsonObject { ["TimeToFirstToken"] = "00:00:00", ["TimePerToken"] = "00:00:00" };
        tollgate["Ledger"] = new JsonObject { ["FlushInterval"] = "00:00:00.050" };
        tollgate["Gateway"] = new JsonObject { ["AbandonedStreamUsageWait"] = "00:00:10", ["DrainTimeout"] = "00:00:05" };
        configure?.Invoke(tollgate);
        await File.WriteAllTextAsync(Path.Combine(directory, "tollgate.json"), root.ToJsonString());
        var logs = new LogCapture();
        var clock = time ?? TimeProvider.System;
        var departures = new CallerDepartures();
        var app = await GatewayApp.CreateAsync(new GatewayHostOptions
        {
            DataDirectory = directory,
            ConfigFile = Path.Combine(directory, "tollgate.json"),
            Urls = "http://127.0.0.1:0",
            MetricsUrls = "http://127.0.0.1:0",
            TimeProvider = clock,
            MinimumLogLevel = LogLevel.Information,
            ConfigureServices = s =>
            {
                s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(departures);
                services?.Invoke(s);
            },
            ConfigureLogging = l => l.AddProvider(logs),
        });
        await app.StartAsync();
        return new TestGateway(app, directory, clock, logs, departures);
    }

    public async Task<string> CreateKeyAsync(string plan = "basic", string tenant = "acme", string user = "alice", DateTimeOffset? expiresAt = null)
    {
        var (_, secret) = await Issuer.CreateAsync(new ApiKeyIssuer.Request(tenant, user, plan, expiresAt), CancellationToken.None);
        return secret;
    }

    public async Task<(string Id, string Secret)> CreateKeyWithIdAsync(string plan = "basic", string tenant = "acme", string user = "alice", DateTimeOffset? expiresAt = null)
    {
        var (key, secret) = await Issuer.CreateAsync(new ApiKeyIssuer.Request(tenant, user, plan, expiresAt), CancellationToken.None);
        return (key.Id, secret);
    }

    public ApiKeyIssuer Issuer => new(Keys, _app.Services.GetRequiredService<KeyHasher>(), Time);

    public IApiKeyStore Keys => _app.Services.GetRequiredService<IApiKeyStore>();

    public Limits.IQuotaStore Quotas => _app.Services.GetRequiredService<Limits.IQuotaStore>();

    public async Task<(string Id, string Secret)> CreateKeyWithLimitsAsync(string plan, IReadOnlyDictionary<string, string> limits, string tenant = "acme", string user = "alice")
    {
        var (id, secret) = await CreateKeyWithIdAsync(plan, tenant, user);
        await Keys.UpdateOverridesAsync(id, limits, CancellationToken.None);
        return (id, secret);
    }

    /// <summary>Writes everything pending and returns the audit record of <paramref name="requestId"/>.</summary>
    public async Task<AuditRecord> AuditAsync(string requestId)
    {
        // A client can read a whole response before the handler that wrote it has queued its record: wait for the
        // requests in flight to end (bounded) when the record is not there yet.
        var inFlight = _app.Services.GetRequiredService<Proxy.InFlightRequests>();
        for (int attempt = 0; ; attempt++)
        {
            var records = await AuditRecordsAsync(new UsageQuery(RequestId: requestId));
            if (records.Count > 0 || attempt == 100)
            {
                return Assert.Single(records);
            }

            await inFlight.WaitForDrainAsync(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }
    }

    /// <summary>
    /// Waits (bounded) for the requests in flight to end — a client can read a whole response before its handler has
    /// settled and queued its record — then writes everything pending.
    /// </summary>
    public async Task RequestsEndedAsync()
    {
        await _app.Services.GetRequiredService<Proxy.InFlightRequests>().WaitForDrainAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
        await _app.Ledger.FlushAsync();
    }

    public async Task<IReadOnlyList<AuditRecord>> AuditRecordsAsync(UsageQuery? query = null)
    {
        await _app.Ledger.FlushAsync();
        return await _app.Services.GetRequiredService<ILedgerStore>().ReadAsync(query ?? new UsageQuery(), 100_000, CancellationToken.None);
    }

    /// <summary>An official OpenAI client pointed at the gateway, with retries off and a settable request id.</summary>
    public OpenAIClient OpenAI(string key, RequestIdPolicy? requestIds = null)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(Address, "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(60),
        };
        if (requestIds is not null)
        {
            options.AddPolicy(requestIds, PipelinePosition.PerCall);
        }

        return new OpenAIClient(new ApiKeyCredential(key), options);
    }

    /// <summary>
    /// An official OpenAI client with the SDK's own retries on (its default count and delays), its waits recorded by
    /// <paramref name="retries"/> instead of slept, and every attempt recorded by <paramref name="attempts"/>.
    /// </summary>
    public OpenAIClient OpenAIWithRetries(string key, RecordingRetryPolicy retries, AttemptRecorder attempts, RequestIdPolicy? requestIds = null)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(Address, "/v1"),
            RetryPolicy = retries,
            NetworkTimeout = TimeSpan.FromSeconds(60),
        };
        if (requestIds is not null)
        {
            options.AddPolicy(requestIds, PipelinePosition.PerCall);
        }

        options.AddPolicy(attempts, PipelinePosition.PerTry);
        return new OpenAIClient(new ApiKeyCredential(key), options);
    }

    /// <summary>
    /// An official Anthropic client pointed at the gateway (nothing changed but the base URL and the key), with retries
    /// off unless <paramref name="maxRetries"/> says otherwise, and request ids set by <paramref name="requestIds"/>.
    /// </summary>
    public global::Anthropic.AnthropicClient Anthropic(string key, RequestIdHandler requestIds, int maxRetries = 0) => new()
    {
        BaseUrl = Address.ToString().TrimEnd('/'),
        ApiKey = key,
        MaxRetries = maxRetries,
        Timeout = TimeSpan.FromSeconds(60),
        HttpClient = new HttpClient(requestIds) { Timeout = TimeSpan.FromSeconds(60) },
    };

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
        if (!DeleteOnDispose)
        {
            return;
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
