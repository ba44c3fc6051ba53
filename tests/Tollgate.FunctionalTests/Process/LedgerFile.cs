using Microsoft.Data.Sqlite;

namespace Tollgate.FunctionalTests.Process;

/// <summary>One row of the <c>audit</c> table, as the gateway process wrote it.</summary>
internal sealed record LedgerRow(
    string RequestId, string? KeyId, string? Tenant, string? Model, string Decision, string Reason, bool Stream,
    long InputTokens, long OutputTokens, long CostNanos, int Status);

/// <summary>
/// Reads the gateway's SQLite file from outside the process, as an operator would: read-only, unpooled (nothing is
/// held open once a call returns), while the gateway runs or after it has gone.
/// </summary>
internal sealed class LedgerFile(string path)
{
    public string Path { get; } = path;

    public async Task<IReadOnlyList<LedgerRow>> ReadAsync()
    {
        await using var connection = await OpenAsync(SqliteOpenMode.ReadOnly);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT request_id, key_id, tenant, model, decision, reason, stream, input_tokens, output_tokens, cost_nanos, status
            FROM audit ORDER BY id
            """;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<LedgerRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new LedgerRow(
                reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetInt64(6) != 0,
                reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetInt32(10)));
        }

        return rows;
    }

    /// <summary>
    /// The open reservation leases, read as a restart would: the lease journal beside the file (<c>-leases</c>), less the
    /// leases the database marks settled; each with the background response it holds, if any.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string?>> OpenLeasesAsync()
    {
        var leases = new Dictionary<string, string?>(StringComparer.Ordinal);
        string journal = Path + "-leases";
        // Lines end at a line feed or a zero byte: the file is mapped past its last line, and zero there.
        string text = File.Exists(journal) ? await File.ReadAllTextAsync(journal) : "";
        foreach (string line in text.Split(['\n', '\0'], StringSplitOptions.RemoveEmptyEntries))
        {

            using var entry = System.Text.Json.JsonDocument.Parse(line);
            var root = entry.RootElement;
            string id = root.GetProperty("id").GetString()!;
            string? background = root.TryGetProperty("background", out var b) ? b.GetString() : null;
            if (root.GetProperty("k").GetString() == "l")
            {
                leases[id] = background;
            }
            else if (leases.ContainsKey(id))
            {
                leases[id] = background;
            }
        }

        await using var connection = await OpenAsync(SqliteOpenMode.ReadOnly);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM settled_leases;";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            leases.Remove(reader.GetString(0));
        }

        return leases;
    }

    /// <summary><c>PRAGMA integrity_check</c>: "ok" for a sound file. Opens read-write, so a crash's WAL is recovered first.</summary>
    public async Task<string> IntegrityCheckAsync()
    {
        await using var connection = await OpenAsync(SqliteOpenMode.ReadWrite);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check;";
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private async Task<SqliteConnection> OpenAsync(SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Mode = mode, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout=5000;";
        await command.ExecuteNonQueryAsync();
        return connection;
    }
}
