using System.CommandLine;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Identity;
using Tollgate.Storage.Sqlite;

namespace Tollgate.Cli;

/// <summary>What a state-changing command needs: the data directory's stores and the config (to check plan names).</summary>
internal sealed class CliContext
{
    private CliContext(DataDirectory data, SqliteDatabase database, GatewayConfig config, KeyHasher hasher)
    {
        Data = data;
        Keys = new SqliteApiKeyStore(database);
        Ledger = new SqliteLedgerStore(database);
        Config = config;
        Issuer = new ApiKeyIssuer(Keys, hasher, TimeProvider.System);
    }

    public DataDirectory Data { get; }

    public IApiKeyStore Keys { get; }

    public ILedgerStore Ledger { get; }

    public GatewayConfig Config { get; }

    public ApiKeyIssuer Issuer { get; }

    public static async Task<CliContext> OpenAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var config = LoadConfig(parse.GetValue(CommonOptions.Config));
        var data = new DataDirectory(parse.GetValue(CommonOptions.Data));
        data.EnsureExists();
        var database = new SqliteDatabase(data.DatabasePath, config.Options.Ledger.BusyTimeout);
        await database.InitializeAsync(cancellationToken).ConfigureAwait(false);
        return new CliContext(data, database, config, new KeyHasher(data.LoadOrCreateHashKey()));
    }

    public static GatewayConfig LoadConfig(string? file)
    {
        if (file is not null && !File.Exists(file))
        {
            throw new CliUsageException($"Configuration file not found: {file}");
        }

        var errors = new List<ConfigError>();
        return ConfigurationLoader.Load(ConfigurationLoader.Build(file, watch: false), errors) ?? throw new GatewayConfigException(errors);
    }

    public void RequirePlan(string plan)
    {
        if (!Config.HasPlan(plan))
        {
            throw new CliUsageException($"Unknown plan '{plan}'. Plans: {string.Join(", ", Config.Options.Plans.Keys)}.");
        }
    }
}
