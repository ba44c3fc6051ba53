using Tollgate.Responses;
using Tollgate.Stores.Contracts;

namespace Tollgate.Core.Tests.Contracts;

public sealed class InMemoryResponseOwnerStoreTests : ResponseOwnerStoreContractTests
{
    protected override Task<IResponseOwnerStore> CreateStoreAsync() => Task.FromResult<IResponseOwnerStore>(new InMemoryResponseOwnerStore());
}
