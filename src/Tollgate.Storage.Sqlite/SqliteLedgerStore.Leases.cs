using Microsoft.Data.Sqlite;
using Tollgate.Audit;
using Tollgate.Pricing;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// Reservation leases: written to the lease journal (<see cref="LeaseJournal"/>) before the upstream is called, marked
/// settled in the transaction of the settling record. Table <c>reservation_leases</c> is read once, for rows an older
/// version left there.
/// </summary>
public sealed partial class SqliteLedgerStore
{
    private const string ReadLeaseColumns =
        "id, ts, request_id, endpoint, key_id, tenant, user, model, upstream, task, source_address, "
        + "input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_nanos, tool_calls, tool_fee_nanos, background_response_id";

    private readonly SemaphoreSlim _opening = new(1, 1);

    private LeaseJournal Journal => database.Leases;

    /// <inheritdoc />
    /// <remarks>
    /// One line appended to the lease journal (<see cref="LeaseJournal"/>) on the caller's thread: durable when this
    /// returns as far as the page cache goes (it survives the process being killed, not a power loss), with no database
    /// transaction and no thread hop.
    /// </remarks>
    /// <exception cref="InvalidOperationException">A lease with the same id is open.</exception>
    public Task AddLeaseAsync(ReservationLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (!Journal.IsOpen)
        {
            return OpenThenAsync(() => Journal.Add(lease), cancellationToken);
        }

        Journal.Add(lease);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ReservationLease>> ReadLeasesAsync(CancellationToken cancellationToken)
    {
        await OpenJournalAsync(cancellationToken).ConfigureAwait(false);
        return Journal.OpenLeases();
    }

    /// <inheritdoc />
    public async Task MarkBackgroundAsync(string leaseId, string responseId, CancellationToken cancellationToken)
    {
        await OpenJournalAsync(cancellationToken).ConfigureAwait(false);
        Journal.MarkBackground(leaseId, responseId);
    }

    private async Task OpenThenAsync(Action action, CancellationToken cancellationToken)
    {
        await OpenJournalAsync(cancellationToken).ConfigureAwait(false);
        action();
    }

    /// <summary>
    /// Opens the lease journal once: its leases less those the database marks settled, plus rows an older version left
    /// in <c>reservation_leases</c>, are the open ones; the file is rewritten with them, then the marks and the old rows
    /// are deleted (a crash between the two leaves marks of settled leases only, and rows already in the file).
    /// </summary>
    private async Task OpenJournalAsync(CancellationToken cancellationToken)
    {
        if (Journal.IsOpen)
        {
            return;
        }

        await _opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Journal.IsOpen)
            {
                return;
            }

            await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var settled = new HashSet<string>(StringComparer.Ordinal);
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT id FROM settled_leases;";
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    settled.Add(reader.GetString(0));
                }
            }

            var rows = new List<ReservationLease>();
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = $"SELECT {ReadLeaseColumns} FROM reservation_leases;";
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add(ReadLease(reader));
                }
            }

            Journal.Open(settled, rows);
            await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await using var transaction = connection.BeginTransaction(deferred: false);
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "DELETE FROM settled_leases; DELETE FROM reservation_leases;";
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _writeGate.Release();
            }
        }
        finally
        {
            _opening.Release();
        }
    }

    /// <summary>
    /// Marks, inside the batch's transaction, the leases that the batch's records settle; returns their ids, which the
    /// journal forgets once the transaction commits. When the journal has grown past its bound it is rewritten first
    /// with the open leases (those of this batch included), and the older marks are deleted in the same transaction.
    /// </summary>
    private async Task<List<string>> MarkSettledLeasesAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<AuditRecord> records,
        CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        for (int i = 0; i < records.Count; i++)
        {
            var record = records[i];
            if (record.ReservationId is { } id)
            {
                ids.Add(id);
            }

            // A request that was retried or went to a fallback held one reservation (and lease) per attempt.
            if (record.Attempts is { } attempts)
            {
                foreach (var attempt in attempts)
                {
                    if (attempt.ReservationId is { } attemptId && attemptId != record.ReservationId)
                    {
                        ids.Add(attemptId);
                    }
                }
            }
        }

        if (ids.Count == 0)
        {
            return ids;
        }

        // The journal is open: AppendAsync opened it before taking the write gate. A rotation that cannot make its new
        // file (a full disk) leaves the old one in use, its marks kept, and the batch's records are still committed;
        // the next batch tries again.
        if (Journal.ShouldRotate && Journal.TryRotate())
        {
            await using var clear = connection.CreateCommand();
            clear.Transaction = transaction;
            clear.CommandText = "DELETE FROM settled_leases;";
            await clear.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var mark = connection.CreateCommand();
        mark.Transaction = transaction;
        mark.CommandText = "INSERT OR IGNORE INTO settled_leases (id) VALUES ($id);";
        var parameter = mark.Parameters.Add("$id", SqliteType.Text);
        mark.Prepare();
        foreach (string id in ids)
        {
            parameter.Value = id;
            await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return ids;
    }

    private static ReservationLease ReadLease(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Timestamp = DbValue.GetTime(reader, 1),
        RequestId = reader.GetString(2),
        Endpoint = reader.GetString(3),
        KeyId = reader.GetString(4),
        Tenant = reader.GetString(5),
        User = reader.GetString(6),
        Model = reader.GetString(7),
        Upstream = reader.GetString(8),
        Task = DbValue.GetNullableString(reader, 9),
        SourceAddress = DbValue.GetNullableString(reader, 10),
        Usage = new TokenUsage(reader.GetInt64(11), reader.GetInt64(12), reader.GetInt64(13), reader.GetInt64(14)) { ToolCalls = reader.GetInt64(16) },
        CostNanos = reader.GetInt64(15),
        ToolFeeNanos = reader.GetInt64(17),
        BackgroundResponseId = DbValue.GetNullableString(reader, 18),
    };
}
