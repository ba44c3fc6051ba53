using Tollgate.Responses;
using Tollgate.Stores.Contracts;

namespace Tollgate.Storage.Sqlite.Tests;

public sealed class SqliteResponseOwnerStoreTests : ResponseOwnerStoreContractTests, IDisposable
{
    private readonly TempDatabaseFile _file = new();

    protected override async Task<IResponseOwnerStore> CreateStoreAsync() => new SqliteResponseOwnerStore(await _file.OpenAsync());

    [Fact]
    public async Task Record_SurvivesReopeningTheDatabase()
    {
        var first = new SqliteResponseOwnerStore(await _file.OpenAsync());
        await first.RecordAsync(new StoredResponse("resp_9", "key_a", "sim-mini", 10, 5, new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)), CancellationToken.None);

        var reopened = new SqliteResponseOwnerStore(await _file.OpenAsync());

        Assert.Equal("key_a", (await reopened.FindAsync("resp_9", CancellationToken.None))!.KeyId);
    }

    public void Dispose() => _file.Dispose();
}
