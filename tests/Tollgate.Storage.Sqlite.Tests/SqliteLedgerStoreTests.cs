using Tollgate.Audit;
using Tollgate.Stores.Contracts;

namespace Tollgate.Storage.Sqlite.Tests;

public sealed class SqliteLedgerStoreTests : LedgerStoreContractTests, IDisposable
{
    private readonly TempDatabaseFile _file = new();

    protected override async Task<ILedgerStore> CreateStoreAsync() => new SqliteLedgerStore(await _file.OpenAsync());

    public void Dispose() => _file.Dispose();
}
