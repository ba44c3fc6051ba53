using Microsoft.Data.Sqlite;
using Tollgate.Audit;
using Tollgate.Pricing;

namespace Tollgate.Storage.Sqlite;

/// <summary>Reservation leases (table <c>reservation_leases</c>): written before the upstream is called, deleted with the settling record.</summary>
public sealed partial class SqliteLedgerStore
{
    private const string LeaseColumns =
        "id, ts, request_id, endpoint, key_id, tenant, user, model, upstream, task, source_address, "
        + "input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_nanos, tool_calls, tool_fee_nanos";

    // Read only: the background response id is set by MarkBackgroundAsync once the upstream accepted the response.
    private const string ReadLeaseColumns = LeaseColumns + ", background_response_id";

    private const string InsertLeaseSql =
        $"INSERT INTO reservation_leases ({LeaseColumns}) VALUES ($id, $ts, $request_id, $endpoint, $key_id, $tenant, $user, $model, "
        + "$upstream, $task, $source_address, $input_tokens, $cached_input_tokens, $output_tokens, $reasoning_tokens, $cost_nanos, $tool_calls, $tool_fee_nanos);";

    private readonly Lock _leaseLock = new();
    private List<PendingLease> _pendingLeases = [];
    private bool _committingLeases;

    /// <inheritdoc />
    /// <remarks>
    /// Group commit: leases that arrive while a commit is under way wait for the next one, and go in one
    /// transaction together. Each caller returns once its own lease is committed (durable as far as
    /// <c>synchronous=NORMAL</c> in WAL goes: it survives the process being killed, not a power loss).
    /// </remarks>
    /// <exception cref="InvalidOperationException">A lease with the same id is already stored.</exception>
    public Task AddLeaseAsync(ReservationLease lease, CancellationToken cancellationToken)
    {
        var pending = new PendingLease(lease);
        bool lead;
        lock (_leaseLock)
        {
            _pendingLeases.Add(pending);
            lead = !_committingLeases;
            _committingLeases = true;
        }

        if (lead)
        {
            _ = CommitPendingLeasesAsync();
        }

        return pending.Committed.Task;
    }

    // Commits what is pending, then hands over to the next batch (if any arrived meanwhile) on its own task, so no
    // caller waits for more than the commit in progress and its own.
    private async Task CommitPendingLeasesAsync()
    {
        List<PendingLease> batch;
        lock (_leaseLock)
        {
            batch = _pendingLeases;
            _pendingLeases = [];
        }

        try
        {
            await CommitLeasesAsync(batch).ConfigureAwait(false);
        }
        finally
        {
            bool more;
            lock (_leaseLock)
            {
                more = _pendingLeases.Count > 0;
                _committingLeases = more;
            }

            if (more)
            {
                _ = Task.Run(CommitPendingLeasesAsync);
            }
        }
    }

    private async Task CommitLeasesAsync(List<PendingLease> batch)
    {
        try
        {
            await InsertLeasesAsync(batch).ConfigureAwait(false);
            foreach (var pending in batch)
            {
                pending.Committed.TrySetResult();
            }
        }
        catch (Exception e) when (batch.Count > 1 && e is InvalidOperationException)
        {
            // One lease of the batch is a duplicate: commit each alone, so only its own caller fails.
            foreach (var pending in batch)
            {
                await CommitLeasesAsync([pending]).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            foreach (var pending in batch)
            {
                pending.Committed.TrySetException(e);
            }
        }
    }

    private async Task InsertLeasesAsync(List<PendingLease> batch)
    {
        await using var connection = await database.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await InsertLeasesAsync(connection, batch).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private static async Task InsertLeasesAsync(SqliteConnection connection, List<PendingLease> batch)
    {
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertLeaseSql;
        foreach (var pending in batch)
        {
            var lease = pending.Lease;
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$id", lease.Id);
            command.Parameters.AddWithValue("$ts", UnixTime.ToMilliseconds(lease.Timestamp));
            command.Parameters.AddWithValue("$request_id", lease.RequestId);
            command.Parameters.AddWithValue("$endpoint", lease.Endpoint);
            command.Parameters.AddWithValue("$key_id", lease.KeyId);
            command.Parameters.AddWithValue("$tenant", lease.Tenant);
            command.Parameters.AddWithValue("$user", lease.User);
            command.Parameters.AddWithValue("$model", lease.Model);
            command.Parameters.AddWithValue("$upstream", lease.Upstream);
            command.Parameters.AddWithValue("$task", DbValue.Of(lease.Task));
            command.Parameters.AddWithValue("$source_address", DbValue.Of(lease.SourceAddress));
            command.Parameters.AddWithValue("$input_tokens", lease.Usage.InputTokens);
            command.Parameters.AddWithValue("$cached_input_tokens", lease.Usage.CachedInputTokens);
            command.Parameters.AddWithValue("$output_tokens", lease.Usage.OutputTokens);
            command.Parameters.AddWithValue("$reasoning_tokens", lease.Usage.ReasoningTokens);
            command.Parameters.AddWithValue("$cost_nanos", lease.CostNanos);
            command.Parameters.AddWithValue("$tool_calls", lease.Usage.ToolCalls);
            command.Parameters.AddWithValue("$tool_fee_nanos", lease.ToolFeeNanos);
            try
            {
                await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (SqliteException e) when (DbValue.IsUniqueViolation(e))
            {
                throw new InvalidOperationException($"Lease {lease.Id} already exists.", e);
            }
        }

        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private sealed class PendingLease(ReservationLease lease)
    {
        public ReservationLease Lease { get; } = lease;

        // Waiters resume on the committing thread (up to their next await): no thread hop per lease.
        public TaskCompletionSource Committed { get; } = new();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ReservationLease>> ReadLeasesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ReadLeaseColumns} FROM reservation_leases ORDER BY ts, id;";
        var leases = new List<ReservationLease>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            leases.Add(ReadLease(reader));
        }

        // SQLite orders text by UTF-8 bytes; re-sort (stable) so ids compare as .NET ordinal strings do.
        leases.Sort(static (a, b) => a.Timestamp != b.Timestamp ? a.Timestamp.CompareTo(b.Timestamp) : string.CompareOrdinal(a.Id, b.Id));
        return leases;
    }

    /// <inheritdoc />
    public async Task MarkBackgroundAsync(string leaseId, string responseId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE reservation_leases SET background_response_id = $response_id WHERE id = $id;";
            command.Parameters.AddWithValue("$response_id", responseId);
            command.Parameters.AddWithValue("$id", leaseId);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Deletes, inside the batch's transaction, the leases that the batch's records settle.</summary>
    private static async Task DeleteSettledLeasesAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<AuditRecord> records,
        CancellationToken cancellationToken)
    {
        SqliteCommand? delete = null;
        try
        {
            for (int i = 0; i < records.Count; i++)
            {
                var record = records[i];
                if (record.ReservationId is { } id)
                {
                    delete ??= PrepareDelete(connection, transaction);
                    delete.Parameters[0].Value = id;
                    await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                // A request that was retried or went to a fallback held one reservation (and lease) per attempt.
                if (record.Attempts is { } attempts)
                {
                    foreach (var attempt in attempts)
                    {
                        if (attempt.ReservationId is { } attemptId && attemptId != record.ReservationId)
                        {
                            delete ??= PrepareDelete(connection, transaction);
                            delete.Parameters[0].Value = attemptId;
                            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }
        }
        finally
        {
            if (delete is not null)
            {
                await delete.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static SqliteCommand PrepareDelete(SqliteConnection connection, SqliteTransaction transaction)
    {
        var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM reservation_leases WHERE id = $id;";
        delete.Parameters.Add("$id", SqliteType.Text);
        delete.Prepare();
        return delete;
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
