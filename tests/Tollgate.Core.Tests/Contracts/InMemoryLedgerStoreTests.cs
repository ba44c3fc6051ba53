using Tollgate.Audit;

namespace Tollgate.Core.Tests.Contracts;

public sealed class InMemoryLedgerStoreTests : LedgerStoreContractTests
{
    protected override Task<ILedgerStore> CreateStoreAsync() => Task.FromResult<ILedgerStore>(new InMemoryLedgerStore());
}
