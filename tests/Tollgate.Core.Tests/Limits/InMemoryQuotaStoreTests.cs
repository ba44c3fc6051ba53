using Tollgate.Core.Tests.Contracts;
using Tollgate.Limits;

namespace Tollgate.Core.Tests.Limits;

public sealed class InMemoryQuotaStoreTests : QuotaStoreContractTests
{
    protected override IQuotaStore CreateStore() => new InMemoryQuotaStore();
}
