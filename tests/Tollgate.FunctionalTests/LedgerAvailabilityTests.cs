using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Storage.Sqlite;

namespace Tollgate.FunctionalTests;

/// <summary>When the ledger cannot be written the gateway refuses (503) instead of serving unrecorded, and loses nothing.</summary>
public sealed class LedgerAvailabilityTests : IAsyncLifetime
{
    private SwitchableLedgerStore _store = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(services: s => s.AddSingleton<ILedgerStore>(sp =>
        _store = new SwitchableLedgerStore(new SqliteLedgerStore(sp.GetRequiredService<SqliteDatabase>()))));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Post_LedgerWritesFailing_Is503UntilRecoveredAndNoRecordIsLost()
    {
        string key = await _gateway.CreateKeyAsync();
        using var first = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        _store.Failing = true;
        // The admission lease cannot be written: refused at once, never served unrecorded.
        using var second = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal("ledger_unavailable", (await ChatCompletionTests.ErrorAsync(second)).Code);
        // The writer notices on its next flush (every 50 ms here); the queued records stay queued, not dropped.
        await PollAsync(() => !_gateway.App.Ledger.CanAccept);
        using var refused = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));
        using var ready = await _gateway.Http.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("ledger_unavailable", (await ChatCompletionTests.ErrorAsync(refused)).Code);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Single(_gateway.Simulator.Billing.All);

        _store.Failing = false;
        await PollAsync(() => _gateway.App.Ledger.CanAccept);
        using var fourth = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));
        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);

        var records = await _gateway.AuditRecordsAsync();
        string seen = string.Join(", ", records.OrderBy(r => r.Timestamp).Select(r => $"{r.RequestId}:{r.Reason}"));
        Assert.True(records.Count == 4, seen);
        Assert.Equal(["ok", "ledger_unavailable", "ledger_unavailable", "ok"], records.OrderBy(r => r.Timestamp).ThenBy(r => r.Reason == "ok" ? 1 : 0).Select(r => r.Reason).ToList());
    }

    private static async Task PollAsync(Func<bool> condition)
    {
        for (int i = 0; i < 1200 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition(), "The ledger writer did not change state within 30 s.");
    }

    private const string Body = """{"model":"sim-mini","messages":[{"role":"user","content":"ledger"}]}""";

    private sealed class SwitchableLedgerStore(ILedgerStore inner) : ILedgerStore
    {
        public volatile bool Failing;

        public Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken) =>
            Failing ? throw DiskFull() : inner.AppendAsync(records, cancellationToken);

        public Task AddLeaseAsync(ReservationLease lease, CancellationToken cancellationToken) =>
            Failing ? throw DiskFull() : inner.AddLeaseAsync(lease, cancellationToken);

        public Task ProbeWriteAsync(CancellationToken cancellationToken) =>
            Failing ? throw DiskFull() : inner.ProbeWriteAsync(cancellationToken);

        public Task MarkBackgroundAsync(string leaseId, string responseId, CancellationToken cancellationToken) =>
            Failing ? throw DiskFull() : inner.MarkBackgroundAsync(leaseId, responseId, cancellationToken);

        public Task<IReadOnlyList<ReservationLease>> ReadLeasesAsync(CancellationToken cancellationToken) => inner.ReadLeasesAsync(cancellationToken);

        public IAsyncEnumerable<AuditRecord> ReadAllowedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
            inner.ReadAllowedSinceAsync(since, cancellationToken);

        public Task<IReadOnlyList<UsageSummary>> QueryUsageAsync(UsageQuery query, CancellationToken cancellationToken) => inner.QueryUsageAsync(query, cancellationToken);

        public Task<IReadOnlyList<AuditRecord>> ReadAsync(UsageQuery query, int limit, CancellationToken cancellationToken) => inner.ReadAsync(query, limit, cancellationToken);

        public Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken) => inner.DeleteBeforeAsync(before, cancellationToken);

        private static Microsoft.Data.Sqlite.SqliteException DiskFull() => new("database or disk is full", 13);
    }
}
