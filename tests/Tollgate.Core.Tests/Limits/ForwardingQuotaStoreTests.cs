using Tollgate.Limits;
using Tollgate.Stores.Contracts;

namespace Tollgate.Core.Tests.Limits;

/// <summary>The contract suite against a store from another assembly, which makes its own reservations and decisions.</summary>
public sealed class ForwardingQuotaStoreTests : QuotaStoreContractTests
{
    protected override IQuotaStore CreateStore() => new ForwardingQuotaStore(new InMemoryQuotaStore());
}
