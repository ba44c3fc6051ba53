using Microsoft.Extensions.DependencyInjection.Extensions;
using Tollgate.Configuration;
using Tollgate.Identity;
using Tollgate.Metrics;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Proxy;
using Tollgate.Shedding;
using Tollgate.Storage.Sqlite;
using Tollgate.Upstreams;

namespace Tollgate.Hosting;

/// <summary>
/// The host's share of the composition. <c>tollgate serve</c> and the state-changing commands build their services
/// from the same extensions: configuration, data directory (with its SQLite stores), core; the server adds the gateway
/// itself and the simulator.
/// </summary>
internal static class GatewayServiceCollectionExtensions
{
    /// <summary>
    /// Registers <paramref name="configuration"/> (disposed with the container, file watcher included) and the
    /// <see cref="GatewayConfigMonitor"/> that starts from <paramref name="initial"/>, also as the
    /// <see cref="IGatewayConfigSource"/>.
    /// </summary>
    public static IServiceCollection AddTollgateConfiguration(this IServiceCollection services, IConfiguration configuration, GatewayConfig initial)
    {
        // Through a factory, so that the container owns (and disposes) it.
        services.AddSingleton(_ => configuration);
        services.AddSingleton(sp => new GatewayConfigMonitor(configuration, initial, sp.GetRequiredService<ILogger<GatewayConfigMonitor>>()));
        services.AddSingleton<IGatewayConfigSource>(sp => sp.GetRequiredService<GatewayConfigMonitor>());
        return services;
    }

    /// <summary>
    /// Registers the data directory, its key-hashing key (<see cref="KeyHasher"/>, read or created when first
    /// resolved) and the SQLite stores in its database file.
    /// </summary>
    public static IServiceCollection AddTollgateDataDirectory(this IServiceCollection services, DataDirectory data, TimeSpan busyTimeout)
    {
        services.AddSingleton(data);
        services.AddSingleton(_ => new KeyHasher(data.LoadOrCreateHashKey()));
        services.AddTollgateSqliteStorage(data.DatabasePath, busyTimeout);
        return services;
    }

    /// <summary>
    /// Registers the request path: the <c>openai</c> and <c>anthropic</c> upstream kinds and the upstream clients, the
    /// pipeline and its steps, the shedding queue (<see cref="FairScheduler"/>, reading the process's load through an
    /// <see cref="ILoadSignal"/> unless another is registered), metrics, in-flight tracking and shutdown state. Needs <see cref="AddTollgateConfiguration"/>,
    /// <see cref="AddTollgateDataDirectory"/> and <see cref="CoreServiceCollectionExtensions.AddTollgateCore"/>.
    /// </summary>
    public static IServiceCollection AddTollgateGateway(this IServiceCollection services)
    {
        services.AddSingleton<IUpstreamHandlerFactory, OpenAIUpstreamHandlerFactory>();
        services.AddSingleton<IUpstreamHandlerFactory, AnthropicUpstreamHandlerFactory>();
        services.AddSingleton<IUpstreamHandlerFactory, AzureOpenAIUpstreamHandlerFactory>();
        services.AddSingleton<UpstreamClients>();
        services.AddSingleton(sp => new GatewayMetrics(sp.GetRequiredService<Audit.LedgerWriter>));
        services.AddSingleton<InFlightRequests>();
        services.AddSingleton<ShutdownState>();
        services.AddSingleton<AuthenticateStep>();
        services.TryAddSingleton<ILoadSignal, ProcessLoadSignal>();
        services.AddSingleton<FairScheduler>();
        services.AddSingleton<QueueMetrics>();
        services.AddSingleton<QueueStep>();
        services.AddSingleton<AdmitStep>();
        services.AddSingleton<CacheLookupStep>();
        services.AddSingleton<ForwardStep>();
        services.AddSingleton<ProtocolFitStep>();
        services.AddSingleton<Resilience.UpstreamResilienceRegistry>();
        services.AddSingleton<ResilientForwardStep>();
        services.AddSingleton<StreamRelayStep>();
        services.AddSingleton<Background.BackgroundResponses>();
        services.AddSingleton<AuditStep>();
        services.AddSingleton<RequestPipeline>();
        services.AddSingleton<Endpoints.CountTokensHandler>();
        return services;
    }
}
