using Tollgate.Identity;
using Tollgate.Stores.Contracts;

namespace Tollgate.Storage.Sqlite.Tests;

public sealed class SqliteApiKeyStoreTests : ApiKeyStoreContractTests, IDisposable
{
    private readonly TempDatabaseFile _file = new();

    protected override async Task<IApiKeyStore> CreateStoreAsync() => new SqliteApiKeyStore(await _file.OpenAsync());

    public void Dispose() => _file.Dispose();
}
