using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Sqlite;
using Tollgate.Audit;
using Tollgate.Pricing;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// An <see cref="ILedgerStore"/> in a SQLite file (table <c>audit</c>) and its lease journal (<see cref="LeaseJournal"/>).
/// A batch is one transaction through one prepared statement, which also marks the leases the batch settles. Failures (disk full, <c>SQLITE_BUSY</c> once the busy timeout has passed) propagate as
/// <see cref="SqliteException"/>: <see cref="LedgerWriter"/> keeps the batch and retries. Timestamps are kept to the
/// millisecond.
/// </summary>
/// <param name="database">The database; <see cref="SqliteDatabase.InitializeAsync"/> must have run.</param>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The write gate's semaphore never allocates a wait handle, so it holds nothing to dispose.")]
public sealed partial class SqliteLedgerStore(SqliteDatabase database) : ILedgerStore
{
    // Retention deletes in chunks so that no single write transaction holds the lock for long.
    private const int DeleteChunk = 5000;

    // This process's writers take turns here rather than inside SQLite: a writer that finds the file locked by
    // another connection sleeps in SQLite's busy handler (a millisecond or more), while one waiting here resumes the
    // moment the other commits. Another process (the command line) still meets the busy handler.
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <inheritdoc />
    public async Task ProbeWriteAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // BEGIN IMMEDIATE takes the write lock (waiting up to the busy timeout), exactly as a batch would.
        await using var transaction = connection.BeginTransaction(deferred: false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        // Before the write gate, which opening the journal takes too.
        await OpenJournalAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            using (var insert = new AuditInsertCommand(connection))
            {
                for (int i = 0; i < records.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    insert.Execute(records[i]);
                }
            }

            var settled = await MarkSettledLeasesAsync(connection, transaction, records, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            Journal.Settle(settled);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<AuditRecord> ReadAllowedSinceAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // Served by the (decision, ts) index, whose entries end with the rowid (id): no sort step.
        command.CommandText = $"SELECT {AuditRecordReader.Columns} FROM audit WHERE decision = $allowed AND ts >= $since ORDER BY ts, id;";
        command.Parameters.AddWithValue("$allowed", Decisions.Allowed);
        command.Parameters.AddWithValue("$since", UnixTime.CeilingMilliseconds(since));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return AuditRecordReader.Read(reader);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<UsageSummary>> QueryUsageAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Totals saturate at the largest integer instead of failing with SQLite's "integer overflow".
        connection.CreateAggregate("satsum", 0L, (long total, long value) => Saturating.Add(total, value), isDeterministic: true);
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder(
            "SELECT tenant, user, model, COUNT(*), SUM(decision = $refused), satsum(input_tokens), satsum(cached_input_tokens), "
            + "satsum(output_tokens), satsum(reasoning_tokens), satsum(cost_nanos), SUM(usage_source = $estimated) FROM audit");
        command.Parameters.AddWithValue("$refused", Decisions.Refused);
        command.Parameters.AddWithValue("$estimated", (long)UsageSource.Estimated);
        LedgerFilter.Apply(query, sql, command);
        sql.Append(" GROUP BY tenant, user, model ORDER BY tenant, user, model;");
        command.CommandText = sql.ToString();

        var rows = new List<UsageSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new UsageSummary(DbValue.GetNullableString(reader, 0), DbValue.GetNullableString(reader, 1), DbValue.GetNullableString(reader, 2),
                reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8),
                reader.GetInt64(9), reader.GetInt64(10)));
        }

        // SQLite orders text by UTF-8 bytes; re-sort so names compare as .NET ordinal strings do (nulls first).
        rows.Sort(CompareGroups);
        return rows;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> ReadAsync(UsageQuery query, int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0)
        {
            return [];
        }

        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT ").Append(AuditRecordReader.Columns).Append(" FROM audit");
        LedgerFilter.Apply(query, sql, command);
        sql.Append(" ORDER BY id DESC LIMIT $limit;");
        command.Parameters.AddWithValue("$limit", limit);
        command.CommandText = sql.ToString();

        var records = new List<AuditRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(AuditRecordReader.Read(reader));
        }

        // Read newest first to apply the limit; return oldest first (in the order they were appended).
        records.Reverse();
        return records;
    }

    /// <inheritdoc />
    public async Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE ts < $before LIMIT $chunk);";
        command.Parameters.AddWithValue("$before", UnixTime.CeilingMilliseconds(before));
        command.Parameters.AddWithValue("$chunk", DeleteChunk);
        int total = 0;
        int deleted;
        do
        {
            await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _writeGate.Release();
            }

            total += deleted;
        }
        while (deleted == DeleteChunk);

        return total;
    }

    private static int CompareGroups(UsageSummary a, UsageSummary b)
    {
        int c = string.CompareOrdinal(a.Tenant, b.Tenant);
        if (c == 0)
        {
            c = string.CompareOrdinal(a.User, b.User);
        }

        return c != 0 ? c : string.CompareOrdinal(a.Model, b.Model);
    }
}
