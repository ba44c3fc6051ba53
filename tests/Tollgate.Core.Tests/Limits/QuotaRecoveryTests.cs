using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Core.Tests.Configuration;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Pricing;
using Tollgate.Stores.Contracts;

namespace Tollgate.Core.Tests.Limits;

public sealed class QuotaRecoveryTests
{
    private static readonly DateTimeOffset _now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    private static CancellationToken None => CancellationToken.None;

    private readonly InMemoryLedgerStore _ledger = new();
    private readonly InMemoryApiKeyStore _keys = new();
    private readonly GatewayConfig _config;

    public QuotaRecoveryTests()
    {
        var options = TestOptions.Valid();
        options.Plans["basic"].TokensPerDay = 1_000_000;
        options.TenantDefaults.BudgetPerDay = 100m;
        Assert.True(GatewayConfig.TryCreate(options, out var config, out _));
        _config = config!;
    }

    [Fact]
    public async Task RunAsync_LeftoverLease_BilledAtItsWorstCaseAndCounted()
    {
        await _keys.CreateAsync(TestKeys.Key("key_1", plan: "basic"), TestKeys.Hash(1), None);
        await _ledger.AddLeaseAsync(TestAuditRecords.MinimalLease("rsv_1", _now.AddMinutes(-5)) with
        {
            KeyId = "key_1",
            User = "alice",
            Usage = new TokenUsage(70, 0, 30, 0),
            CostNanos = 1_234,
        }, None);
        var quotas = new InMemoryQuotaStore();

        var result = await Recovery(quotas).RunAsync(_config, None);

        Assert.Equal(new QuotaRecoveryResult(1, 1), result);
        Assert.Empty(await _ledger.ReadLeasesAsync(None));
        var billed = Assert.Single(await _ledger.ReadAsync(new UsageQuery(), 10, None));
        Assert.Equal(("orphaned_reservation", UsageSource.Reserved, "rsv_1", 1_234L), (billed.Reason, billed.UsageSource, billed.ReservationId, billed.CostNanos));
        Assert.Equal(100, await quotas.UsedAsync(Check(ScopeKind.Key, Metric.Tokens), _now, None));
        Assert.Equal(1_234, await quotas.UsedAsync(Check(ScopeKind.Tenant, Metric.Spend), _now, None));
    }

    [Fact]
    public async Task RunAsync_BackgroundLease_NotBilledButHeldAgainAndHandedBack()
    {
        await _keys.CreateAsync(TestKeys.Key("key_1", plan: "basic"), TestKeys.Hash(1), None);
        var lease = TestAuditRecords.MinimalLease("rsv_bg", _now.AddMinutes(-5)) with
        {
            KeyId = "key_1",
            User = "alice",
            Usage = new TokenUsage(70, 0, 30, 0),
            CostNanos = 1_234,
        };
        await _ledger.AddLeaseAsync(lease, None);
        await _ledger.MarkBackgroundAsync("rsv_bg", "resp_1", None);
        var quotas = new InMemoryQuotaStore();

        var result = await Recovery(quotas).RunAsync(_config, None);

        Assert.Equal((0, 0L), (result.BilledLeases, result.ReplayedRecords));
        var resumed = Assert.Single(result.Resumed);
        Assert.Equal(lease with { BackgroundResponseId = "resp_1" }, resumed.Lease);
        Assert.Equal(30, resumed.Reservation.OutputCap);
        Assert.Empty(await _ledger.ReadAsync(new UsageQuery(), 10, None));
        Assert.Single(await _ledger.ReadLeasesAsync(None));
        Assert.Equal(100, await quotas.UsedAsync(Check(ScopeKind.Key, Metric.Tokens), _now, None));
        Assert.Equal(1, quotas.Outstanding);

        await quotas.SettleAsync(resumed.Reservation, new ActualUsage(70, 10, 500), _now, None);
        Assert.Equal(80, await quotas.UsedAsync(Check(ScopeKind.Key, Metric.Tokens), _now, None));
    }

    [Fact]
    public async Task RunAsync_AllowedRecordsOfTheLookBack_CountedInTheirScopes()
    {
        await _keys.CreateAsync(TestKeys.Key("key_1", plan: "basic"), TestKeys.Hash(1), None);
        await _ledger.AppendAsync(
        [
            Record("r1", _now.AddHours(-1), 300, 200, 5_000),
            Record("r2", _now.AddMinutes(-1), 10, 0, 7),
            Record("r3", _now.AddMinutes(-2), 999, 999, 999) with { Decision = Decisions.Refused },
            Record("r4", _now.AddMinutes(-3), 999, 999, 999) with { KeyId = null },
            Record("r5", _now - QuotaRecovery.LookBack - TimeSpan.FromSeconds(1), 999, 999, 999),
        ], None);
        var quotas = new InMemoryQuotaStore();

        var result = await Recovery(quotas).RunAsync(_config, None);

        Assert.Equal(new QuotaRecoveryResult(0, 2), result);
        Assert.Equal(510, await quotas.UsedAsync(Check(ScopeKind.Key, Metric.Tokens), _now, None));
        Assert.Equal(5_007, await quotas.UsedAsync(Check(ScopeKind.Tenant, Metric.Spend), _now, None));
    }

    [Fact]
    public async Task RunAsync_KeyNoLongerStored_CountsAgainstItsTenantOnly()
    {
        await _ledger.AppendAsync([Record("r1", _now.AddHours(-1), 300, 200, 5_000)], None);
        var quotas = new InMemoryQuotaStore();

        var result = await Recovery(quotas).RunAsync(_config, None);

        Assert.Equal(1, result.ReplayedRecords);
        Assert.Equal(0, await quotas.UsedAsync(Check(ScopeKind.Key, Metric.Tokens), _now, None));
        Assert.Equal(5_000, await quotas.UsedAsync(Check(ScopeKind.Tenant, Metric.Spend), _now, None));
    }

    [Fact]
    public async Task RunAsync_StoreWithDurableCounters_BillsLeasesAndCountsNothingAgain()
    {
        await _ledger.AddLeaseAsync(TestAuditRecords.MinimalLease("rsv_1", _now.AddMinutes(-5)), None);
        await _ledger.AppendAsync([Record("r1", _now.AddHours(-1), 300, 200, 5_000)], None);
        var counters = new InMemoryQuotaStore();

        var result = await Recovery(new DurableQuotaStore(counters)).RunAsync(_config, None);

        Assert.Equal(new QuotaRecoveryResult(1, 0), result);
        Assert.Empty(await _ledger.ReadLeasesAsync(None));
        Assert.Equal(0, await counters.UsedAsync(Check(ScopeKind.Tenant, Metric.Spend), _now, None));
    }

    private QuotaRecovery Recovery(IQuotaStore quotas) =>
        new(_ledger, _keys, quotas, new FakeTimeProvider(_now), NullLogger<QuotaRecovery>.Instance);

    private static AuditRecord Record(string requestId, DateTimeOffset at, long input, long output, long cost) =>
        TestAuditRecords.Usage("acme", "alice", "sim-mini", input, 0, output, 0, cost, at, requestId) with { KeyId = "key_1" };

    private LimitCheck Check(ScopeKind kind, Metric metric) =>
        LimitPlanner.BuildChecks(_config, _config.Options.Plans["basic"], "key_1", "acme", "alice", null, null, default)
            .Single(c => c.Scope.Kind == kind && c.Metric == metric);

    /// <summary>A store whose counters outlive the process: it has nothing to restore.</summary>
    private sealed class DurableQuotaStore(IQuotaStore counters) : IQuotaStore
    {
        public int Outstanding => counters.Outstanding;

        public ValueTask<long> RestoreAsync(IAsyncEnumerable<PastUsage> history, DateTimeOffset now, CancellationToken cancellationToken) => ValueTask.FromResult(0L);

        public ValueTask<AdmissionDecision> TryReserveAsync(IReadOnlyList<LimitCheck> checks, long requestedOutput, long minOutput, DateTimeOffset now, CancellationToken cancellationToken) =>
            counters.TryReserveAsync(checks, requestedOutput, minOutput, now, cancellationToken);

        public ValueTask SettleAsync(Reservation reservation, ActualUsage actual, DateTimeOffset now, CancellationToken cancellationToken) =>
            counters.SettleAsync(reservation, actual, now, cancellationToken);

        public ValueTask ReleaseAsync(Reservation reservation, CancellationToken cancellationToken) => counters.ReleaseAsync(reservation, cancellationToken);

        public ValueTask ReplayAsync(IReadOnlyList<LimitCheck> checks, ActualUsage actual, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken) =>
            counters.ReplayAsync(checks, actual, at, now, cancellationToken);

        public ValueTask<Reservation> HoldAsync(IReadOnlyList<LimitCheck> checks, long outputCap, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken) =>
            counters.HoldAsync(checks, outputCap, at, now, cancellationToken);

        public ValueTask<IReadOnlyList<LimitStatus>> PeekAsync(IReadOnlyList<LimitCheck> checks, DateTimeOffset now, CancellationToken cancellationToken) =>
            counters.PeekAsync(checks, now, cancellationToken);

        public ValueTask<long> UsedAsync(LimitCheck check, DateTimeOffset now, CancellationToken cancellationToken) => counters.UsedAsync(check, now, cancellationToken);
    }
}
