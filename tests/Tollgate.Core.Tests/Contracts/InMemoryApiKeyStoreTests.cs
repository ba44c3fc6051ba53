using Tollgate.Identity;
using Tollgate.Stores.Contracts;

namespace Tollgate.Core.Tests.Contracts;

public sealed class InMemoryApiKeyStoreTests : ApiKeyStoreContractTests
{
    protected override Task<IApiKeyStore> CreateStoreAsync() => Task.FromResult<IApiKeyStore>(new InMemoryApiKeyStore());
}
