using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audit;
using Tollgate.Identity;

namespace Tollgate.Storage.Sqlite;

/// <summary>Registers the SQLite stores, for the gateway and the command line alike.</summary>
public static class SqliteServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="SqliteDatabase"/> at <paramref name="databasePath"/> and the stores on it:
    /// <see cref="IApiKeyStore"/> (<see cref="SqliteApiKeyStore"/>) and <see cref="ILedgerStore"/>
    /// (<see cref="SqliteLedgerStore"/>). Run <see cref="SqliteDatabase.InitializeAsync"/> on the registered database
    /// before the stores are used.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="databasePath">The database file (created with its directory on initialization).</param>
    /// <param name="busyTimeout">How long a statement waits for another process's lock before it fails.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTollgateSqliteStorage(this IServiceCollection services, string databasePath, TimeSpan busyTimeout)
    {
        ArgumentNullException.ThrowIfNull(services);
        var database = new SqliteDatabase(databasePath, busyTimeout);
        services.AddSingleton(database);
        services.AddSingleton<IApiKeyStore>(_ => new SqliteApiKeyStore(database));
        services.AddSingleton<ILedgerStore>(new SqliteLedgerStore(database));
        services.AddSingleton<Responses.IResponseOwnerStore>(new SqliteResponseOwnerStore(database));
        return services;
    }
}
