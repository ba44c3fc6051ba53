using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Prometheus;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Limits;
using Tollgate.Endpoints;
using Tollgate.Identity;
using Tollgate.Metrics;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Proxy;
using Tollgate.Simulator;
using Tollgate.Storage.Sqlite;

namespace Tollgate.Hosting;

/// <summary>
/// A running gateway: the API listener, the metrics listener, the ledger writer. Shutdown (SIGTERM or
/// <see cref="StopAsync"/>) stops accepting, lets in-flight requests finish within the drain timeout, records them,
/// and flushes the ledger before returning.
/// </summary>
internal sealed class GatewayApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly WebApplication? _metricsApp;
    private readonly IDisposable _serveLock;
    private bool _disposed;

    private GatewayApp(WebApplication app, WebApplication? metricsApp, IDisposable serveLock)
    {
        _app = app;
        _metricsApp = metricsApp;
        _serveLock = serveLock;
    }

    public IServiceProvider Services => _app.Services;

    /// <summary>The API's base address once started, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Address => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>The metrics listener's base address once started, or null when metrics are off.</summary>
    public Uri? MetricsAddress => _metricsApp is null ? null
        : new(_metricsApp.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public LedgerWriter Ledger => Services.GetRequiredService<LedgerWriter>();

    public static async Task<GatewayApp> CreateAsync(GatewayHostOptions options, CancellationToken cancellationToken = default)
    {
        var configuration = ConfigurationLoader.Build(options.ConfigFile, watch: true);
        var errors = new List<ConfigError>();
        var config = ConfigurationLoader.Load(configuration, errors) ?? throw new GatewayConfigException(errors);

        var data = new DataDirectory(options.DataDirectory);
        var serveLock = data.LockForServing();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        ConfigureLogging(builder.Logging, options.MinimumLogLevel);
        builder.WebHost.ConfigureKestrel(k =>
        {
            ListenAddresses.Apply(k, options.Urls);
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null; // enforced by the proxy against the reloadable limit
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.Options.Gateway.DrainTimeout + TimeSpan.FromSeconds(5));

        var services = builder.Services;
        services.AddSingleton(options.TimeProvider);
        services.AddTollgateConfiguration(configuration, config);
        services.AddTollgateDataDirectory(data, config.Options.Ledger.BusyTimeout);
        services.AddTollgateCore();
        services.AddTollgateGateway();
        services.AddTollgateSimulator();
        options.ConfigureServices?.Invoke(services);
        options.ConfigureLogging?.Invoke(builder.Logging);

        var app = builder.Build();
        try
        {
            await app.Services.GetRequiredService<SqliteDatabase>().InitializeAsync(cancellationToken).ConfigureAwait(false);
            _ = app.Services.GetRequiredService<KeyHasher>();
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            serveLock.Dispose();
            throw;
        }

        app.MapHealth();
        app.MapAnthropicApi();
        app.MapOpenAIApi();

        var metricsApp = config.Options.Metrics.Enabled
            ? BuildMetricsApp(options.MetricsUrls ?? config.Options.Metrics.Urls, app.Services.GetRequiredService<GatewayMetrics>(), options.MinimumLogLevel)
            : null;

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStopping.Register(() => app.Services.GetRequiredService<ShutdownState>()
            .BeginStopping(app.Services.GetRequiredService<GatewayConfigMonitor>().Current.Options.Gateway.DrainTimeout, options.TimeProvider));
        return new GatewayApp(app, metricsApp, serveLock);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _ = Services.GetRequiredService<LedgerWriter>();
        var recovered = await Services.GetRequiredService<QuotaRecovery>()
            .RunAsync(Services.GetRequiredService<GatewayConfigMonitor>().Current, cancellationToken).ConfigureAwait(false);
        // Background responses the last process left running: their reservations are held again; settle them from the upstream.
        await Services.GetRequiredService<Background.BackgroundResponses>().ResumeAsync(recovered.Resumed).ConfigureAwait(false);
        AdmissionPolicy.WarmUp(Services.GetRequiredService<GatewayConfigMonitor>().Current);
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        if (_metricsApp is not null)
        {
            await _metricsApp.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs until the host is told to stop (SIGTERM, Ctrl+C), then drains and flushes.</summary>
    public async Task RunAsync()
    {
        await StartAsync().ConfigureAwait(false);
        await WaitForShutdownAsync().ConfigureAwait(false);
    }

    /// <summary>After <see cref="StartAsync"/>: waits until the host is told to stop, then drains and flushes.</summary>
    public async Task WaitForShutdownAsync()
    {
        await _app.WaitForShutdownAsync().ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var time = Services.GetRequiredService<TimeProvider>();
        await _app.StopAsync().ConfigureAwait(false);
        // Kestrel has drained or cut every request; wait for their audit records, then write them all. Background
        // responses still running stay held by their leases, for the next start to resume.
        await Services.GetRequiredService<InFlightRequests>().WaitForDrainAsync(TimeSpan.FromSeconds(10), time).ConfigureAwait(false);
        Services.GetRequiredService<Background.BackgroundResponses>().Stop();
        await Services.GetRequiredService<LedgerWriter>().DisposeAsync().ConfigureAwait(false);
        if (_metricsApp is not null)
        {
            await _metricsApp.StopAsync().ConfigureAwait(false);
            await _metricsApp.DisposeAsync().ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _serveLock.Dispose();
    }

    private static WebApplication BuildMetricsApp(string urls, GatewayMetrics metrics, LogLevel level)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        ConfigureLogging(builder.Logging, level);
        builder.WebHost.ConfigureKestrel(k =>
        {
            ListenAddresses.Apply(k, urls);
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        app.UseMetricServer(settings => settings.Registry = metrics.Registry, "/metrics");
        return app;
    }

    private static void ConfigureLogging(ILoggingBuilder logging, LogLevel level)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        logging.SetMinimumLevel(level);
        logging.AddFilter("Microsoft.AspNetCore", level > LogLevel.Warning ? level : LogLevel.Warning);
        // Off: while any level of it is on, ASP.NET Core starts an Activity for every request, and HttpClient a child
        // Activity with a traceparent header for every upstream call, work for a trace nobody records. Its messages are
        // each request's start and end (Information and Debug, never shown here) and the web host's start-up failure,
        // which `serve` reports from the exception itself. A caller's own trace context still reaches the upstream
        // (Pipeline/CallerHeaders.cs).
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.AddFilter("Microsoft.Hosting.Lifetime", level);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
    }
}
