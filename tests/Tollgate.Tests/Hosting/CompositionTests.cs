using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.Cli;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Simulator;
using Tollgate.Storage.Sqlite;
using Tollgate.Upstreams;

namespace Tollgate.Tests.Hosting;

/// <summary>The <c>AddXxx</c> extensions that both <c>tollgate serve</c> and the command line compose from.</summary>
public sealed class CompositionTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("tollgate-composition-").FullName;

    public void Dispose()
    {
        new SqliteDatabase(Path.Combine(_data, "tollgate.db")).ClearPool();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task CommandLineServices_SqliteStoresInTheDataDirectory_WithTheConfiguredBusyTimeout()
    {
        var (configuration, config) = CliContext.LoadConfig(null);
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddTollgateConfiguration(configuration, config)
            .AddTollgateDataDirectory(new DataDirectory(_data), TimeSpan.FromSeconds(3))
            .AddTollgateCore()
            .BuildServiceProvider();

        var database = services.GetRequiredService<SqliteDatabase>();
        Assert.Equal(Path.Combine(_data, "tollgate.db"), database.Path);
        Assert.Equal(TimeSpan.FromSeconds(3), database.BusyTimeout);
        Assert.IsType<SqliteApiKeyStore>(services.GetRequiredService<IApiKeyStore>());
        Assert.IsType<SqliteLedgerStore>(services.GetRequiredService<ILedgerStore>());
        Assert.IsType<InMemoryQuotaStore>(services.GetRequiredService<IQuotaStore>());
        Assert.Same(TimeProvider.System, services.GetRequiredService<TimeProvider>());
        Assert.Same(config, services.GetRequiredService<IGatewayConfigSource>().Current);

        await database.InitializeAsync(CancellationToken.None);
        var (key, _) = await services.GetRequiredService<ApiKeyIssuer>().CreateAsync(new ApiKeyIssuer.Request("acme", "alice", "basic"), CancellationToken.None);
        Assert.NotNull(await services.GetRequiredService<IApiKeyStore>().GetAsync(key.Id, CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(_data, "hash.key")));
    }

    [Fact]
    public async Task GatewayServices_EveryUpstreamKindRegistered_AndEarlierRegistrationsKept()
    {
        var (configuration, config) = CliContext.LoadConfig(null);
        var time = new FakeTimeProvider();
        var quotas = new InMemoryQuotaStore();
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(time)
            .AddSingleton<IQuotaStore>(quotas)
            .AddTollgateConfiguration(configuration, config)
            .AddTollgateDataDirectory(new DataDirectory(_data), SqliteDatabase.DefaultBusyTimeout)
            .AddTollgateCore()
            .AddTollgateGateway()
            .AddTollgateSimulator()
            .BuildServiceProvider();

        Assert.Equal(
            [UpstreamKinds.Anthropic, UpstreamKinds.AzureOpenAI, UpstreamKinds.OpenAI, UpstreamKinds.Simulator],
            services.GetServices<IUpstreamHandlerFactory>().Select(f => f.Kind).Order(StringComparer.Ordinal));
        Assert.Same(time, services.GetRequiredService<TimeProvider>());
        Assert.Same(quotas, services.GetRequiredService<IQuotaStore>());
        Assert.NotNull(services.GetRequiredService<UpstreamClients>());
    }
}
