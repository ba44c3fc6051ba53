using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Storage.Sqlite;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Readiness follows the ledger: it turns 503 the moment a lease or ledger write fails (here: the SQLite file locked
/// by another writer past <c>Ledger:BusyTimeout</c>), and returns after a probe write succeeds.
/// </summary>
public sealed class ReadinessTests
{
    private const string Body = """{"model":"sim-mini","messages":[{"role":"user","content":"ready?"}]}""";

    [Fact]
    public async Task Readyz_DatabaseLockedByAnotherWriter_Is503OnceABatchFailsAndRecoversAfterAProbe_NothingLost()
    {
        await using var gateway = await TestGateway.StartAsync(c => c["Ledger"] = new JsonObject
        {
            ["FlushInterval"] = "00:00:00.050",
            ["BusyTimeout"] = "00:00:00.200",
            ["ReadinessProbeInterval"] = "00:00:00.100",
        });
        var database = gateway.App.Services.GetRequiredService<SqliteDatabase>();
        Assert.Equal(TimeSpan.FromMilliseconds(200), database.BusyTimeout);
        string key = await gateway.CreateKeyAsync();
        using (var first = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        await gateway.App.Ledger.FlushAsync();
        await using (var locker = new SqliteConnection($"Data Source={database.Path};Pooling=False"))
        {
            await locker.OpenAsync();
            await using var hold = locker.BeginTransaction(deferred: false);

            // A lease is a line of the lease journal, which needs no lock of the database: this request is served and
            // its record queued. The ledger writer's next batch meets the lock (after the busy timeout): from then on
            // readiness is off and requests are refused, until a write succeeds again.
            using var whileLocked = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));
            Assert.Equal(HttpStatusCode.OK, whileLocked.StatusCode);
            for (int i = 0; i < 600 && gateway.App.Ledger.CanAccept; i++)
            {
                await Task.Delay(50);
            }

            using var refused = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("ledger_unavailable", (await ChatCompletionTests.ErrorAsync(refused)).Code);
            using var unready = await gateway.Http.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unready.StatusCode);
            Assert.Contains("ledger_unavailable", await unready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var stillRefused = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stillRefused.StatusCode);

            await hold.RollbackAsync();
        }

        // A probe write (or the pending batch) succeeds within a few probe intervals.
        for (int i = 0; i < 600 && !gateway.App.Ledger.CanAccept; i++)
        {
            await Task.Delay(50);
        }

        using var ready = await gateway.Http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var served = await gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);

        // The last response can reach the client before its handler has queued its record: wait for it to end.
        await gateway.RequestsEndedAsync();
        var records = await gateway.AuditRecordsAsync();
        // The record queued while the database was locked is written once it is free: nothing is lost.
        Assert.Equal(["ok", "ok", "ledger_unavailable", "ledger_unavailable", "ok"], records.OrderBy(r => r.Timestamp).Select(r => r.Reason).ToList());
    }
}
