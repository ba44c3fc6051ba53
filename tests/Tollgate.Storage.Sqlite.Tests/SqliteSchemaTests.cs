using Microsoft.Data.Sqlite;
using Tollgate.Audit;
using Tollgate.Pricing;
using Tollgate.Stores.Contracts;

namespace Tollgate.Storage.Sqlite.Tests;

/// <summary>Upgrading a file written by an older Tollgate keeps its data and gives new columns their "unset" values.</summary>
public sealed class SqliteSchemaTests : IDisposable
{
    private static CancellationToken None => CancellationToken.None;
    private readonly TempDatabaseFile _file = new();

    public void Dispose() => _file.Dispose();

    [Fact]
    public async Task InitializeAsync_Version1File_MigratesKeepingKeysAndAuditRows()
    {
        var database = new SqliteDatabase(_file.Path);
        await using (var connection = await database.OpenConnectionAsync(None))
        {
            await ExecuteAsync(connection, SqliteSchema.Migrations[0] + "PRAGMA user_version = 1;");
            await ExecuteAsync(connection,
                "INSERT INTO api_keys (id, name, tenant, user, plan, created_at) VALUES ('key_1', NULL, 'acme', 'alice', 'basic', 1000);"
                + "INSERT INTO api_key_secrets (hash, key_id) VALUES ('h1', 'key_1');"
                + "INSERT INTO audit (ts, request_id, endpoint, decision, reason, stream, input_tokens, cached_input_tokens, output_tokens, "
                + "reasoning_tokens, cost_nanos, usage_source, status, latency_ms, upstream_latency_ms, client_aborted) "
                + "VALUES (2000, 'r1', 'chat.completions', 'allowed', 'ok', 0, 5, 0, 7, 0, 99, 1, 200, 1.5, 1.0, 0);");
        }

        await database.InitializeAsync(None);

        var key = await new SqliteApiKeyStore(database).GetAsync("key_1", None);
        Assert.Equal("basic", key!.Plan);
        Assert.Null(key.Overrides);
        var ledger = new SqliteLedgerStore(database);
        var record = Assert.Single(await ledger.ReadAsync(new UsageQuery(), 10, None));
        Assert.Equal(new AuditRecord
        {
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(2000),
            RequestId = "r1",
            Endpoint = "chat.completions",
            Decision = Decisions.Allowed,
            Reason = "ok",
            Usage = new TokenUsage(5, 0, 7, 0),
            CostNanos = 99,
            UsageSource = UsageSource.Reported,
            Status = 200,
            LatencyMs = 1.5,
            UpstreamLatencyMs = 1.0,
        }, record);
        Assert.Empty(await ledger.ReadLeasesAsync(None));
        await ledger.AddLeaseAsync(TestAuditRecords.Lease("rsv_1"), None);
        await ledger.AppendAsync([TestAuditRecords.Full() with { ReservationId = "rsv_1" }], None);
        Assert.Empty(await ledger.ReadLeasesAsync(None));
    }

    [Fact]
    public async Task ReadAllowedSinceAsync_QueryPlan_UsesDecisionTimeIndexWithoutSorting()
    {
        var database = await _file.OpenAsync();
        await using var connection = await database.OpenConnectionAsync(None);
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN SELECT id FROM audit WHERE decision = 'allowed' AND ts >= 0 ORDER BY ts, id;";
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(None))
        {
            while (await reader.ReadAsync(None))
            {
                plan.Add(reader.GetString(3));
            }
        }

        Assert.Contains(plan, step => step.Contains("audit_decision_ts", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FindBySecretHashAsync_MalformedOverridesColumn_ThrowsInvalidData()
    {
        var database = await _file.OpenAsync();
        var store = new SqliteApiKeyStore(database);
        await store.CreateAsync(TestKeys.Key("key_1"), TestKeys.Hash(1), None);
        await using (var connection = await database.OpenConnectionAsync(None))
        {
            await ExecuteAsync(connection, "UPDATE api_keys SET overrides = '{\"RequestsPerMinute\": 10}';");
        }

        var e = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.FindBySecretHashAsync(TestKeys.Hash(1), None));

        Assert.Contains("key_1", e.Message, StringComparison.Ordinal);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(None);
    }
}
