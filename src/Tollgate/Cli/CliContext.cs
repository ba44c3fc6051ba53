using System.CommandLine;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Identity;
using Tollgate.Storage.Sqlite;

namespace Tollgate.Cli;

/// <summary>
/// What a state-changing command needs: the data directory's stores and the config (to check plan names), built
/// with the same service extensions as the gateway (<see cref="GatewayServiceCollectionExtensions"/>,
/// <see cref="CoreServiceCollectionExtensions.AddTollgateCore"/>) in a small container of its own.
/// </summary>
internal sealed class CliContext : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private CliContext(ServiceProvider services)
    {
        _services = services;
        Data = services.GetRequiredService<DataDirectory>();
        Keys = services.GetRequiredService<IApiKeyStore>();
        Ledger = services.GetRequiredService<ILedgerStore>();
        Config = services.GetRequiredService<IGatewayConfigSource>().Current;
        Issuer = services.GetRequiredService<ApiKeyIssuer>();
    }

    public DataDirectory Data { get; }

    public IApiKeyStore Keys { get; }

    public ILedgerStore Ledger { get; }

    public GatewayConfig Config { get; }

    public ApiKeyIssuer Issuer { get; }

    public static async Task<CliContext> OpenAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var (configuration, config) = LoadConfig(parse.GetValue(CommonOptions.Config));
        var data = new DataDirectory(parse.GetValue(CommonOptions.Data));
        data.EnsureExists();
        var services = new ServiceCollection()
            .AddLogging()
            .AddTollgateConfiguration(configuration, config)
            .AddTollgateDataDirectory(data, config.Options.Ledger.BusyTimeout)
            .AddTollgateCore()
            .BuildServiceProvider();
        try
        {
            await services.GetRequiredService<SqliteDatabase>().InitializeAsync(cancellationToken).ConfigureAwait(false);
            return new CliContext(services);
        }
        catch
        {
            await services.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reads and validates the configuration once (not watched: a command is over before an edit matters).</summary>
    public static (IConfigurationRoot Configuration, GatewayConfig Config) LoadConfig(string? file)
    {
        if (file is not null && !File.Exists(file))
        {
            throw new CliUsageException($"Configuration file not found: {file}");
        }

        var errors = new List<ConfigError>();
        var configuration = ConfigurationLoader.Build(file, watch: false);
        var config = ConfigurationLoader.Load(configuration, errors);
        if (config is null)
        {
            (configuration as IDisposable)?.Dispose();
            throw new GatewayConfigException(errors);
        }

        return (configuration, config);
    }

    public void RequirePlan(string plan)
    {
        if (!Config.HasPlan(plan))
        {
            throw new CliUsageException($"Unknown plan '{plan}'. Plans: {string.Join(", ", Config.Options.Plans.Keys)}.");
        }
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
