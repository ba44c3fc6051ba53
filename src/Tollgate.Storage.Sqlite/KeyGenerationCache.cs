using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Tollgate.Identity;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// Keys found by secret, cached for as long as no key changes. Every change to <c>api_keys</c> or
/// <c>api_key_secrets</c> bumps <c>key_generation</c> (by trigger, so whoever writes — this process, the command line,
/// a SQL shell), and every lookup first reads that number on one kept-open connection: one indexed read of one row,
/// instead of opening a connection and joining two tables. A revocation, expiry change, rotation or plan change made
/// by any process therefore applies to the very next request.
/// </summary>
/// <remarks>
/// SQLite's own <c>PRAGMA data_version</c> would do the same without a table, but it changes on every commit by any
/// other connection, and the gateway's own ledger batches commit all the time. Lookups that find no key are
/// never cached (random keys cannot fill the cache); the cache holds at most <see cref="MaxEntries"/> keys and starts
/// over when full. The read runs on the connection's native statement (step, read the column, reset), so the lock it
/// holds, which every request takes, is held for SQLite's work alone.
/// <para>
/// Most lookups do not read the table at all: the header of the database's wal-index (<see cref="WalIndex"/>), which
/// every committing connection of every process rewrites, is compared with the one taken just before the last read.
/// When it has not changed, nothing has been committed since, so that read is still current: no lock, system call or
/// transaction. The gateway's own ledger batches change it a few times a second, each costing one read. A database
/// without a wal-index to map reads the table on every lookup, as before.
/// </para>
/// </remarks>
internal sealed class KeyGenerationCache(SqliteDatabase database) : IDisposable
{
    /// <summary>The most keys held at once.</summary>
    public const int MaxEntries = 250_000;

    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private SqliteConnection? _connection;
    private sqlite3_stmt? _read;
    private long _lastGeneration = long.MinValue;
    private WalIndex? _wal;
    private bool _walOpened;
    private bool _disposed;
    private Reading? _last;
    private long _tableReads;

    /// <summary>Keys cached now.</summary>
    public int Count => _entries.Count;

    /// <summary>How many times the generation was read from the table (the rest came from the wal-index check).</summary>
    internal long TableReads => Interlocked.Read(ref _tableReads);

    /// <summary>The current generation of the key tables.</summary>
    public long ReadGeneration()
    {
        // Nothing committed to the database since the last read: the generation read then is still the current one.
        if (Volatile.Read(ref _last) is { } last && last.Wal.TryRead(out var now) && now == last.Header)
        {
            return last.Generation;
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                if (_read is null)
                {
                    // With the database's busy timeout: SQLite's own busy handler, as the native statement has no
                    // managed retries around it.
                    _connection = database.OpenConnection();
                    Check(raw.sqlite3_prepare_v2(_connection.Handle, "SELECT value FROM key_generation WHERE id = 1;", out var read));
                    _read = read;
                }

                // The header is taken before the read: a commit between the two changes it, and the next lookup reads again.
                var wal = _wal;
                WalIndexHeader before = default;
                bool walKnown = wal is not null && wal.TryRead(out before);
                long generation = Step(_read);
                Interlocked.Increment(ref _tableReads);
                if (generation < _lastGeneration)
                {
                    // The file was replaced by an older copy: its numbers may repeat ones already cached.
                    _entries.Clear();
                }

                _lastGeneration = generation;
                if (!_walOpened)
                {
                    // After the first read of each connection: it has mapped the wal-index by then, and holds SQLite's
                    // lock on it, so this view is of the file SQLite uses, not of one deleted while no connection was open.
                    _walOpened = true;
                    string file = raw.sqlite3_db_filename(_connection!.Handle, "main").utf8_to_string();
                    _wal = database.MapWalIndex(file) is { IsMapped: true } index ? index : null;
                }

                Volatile.Write(ref _last, walKnown ? new Reading(wal!, before, generation) : null);
                return generation;
            }
            catch
            {
                // A broken connection is reopened on the next lookup.
                Volatile.Write(ref _last, null);
                CloseConnection();
                throw;
            }
        }
    }

    /// <summary>The cached match for <paramref name="secretHash"/> if it was read at <paramref name="generation"/>.</summary>
    public bool TryGet(string secretHash, long generation, out ApiKeyMatch? match)
    {
        if (_entries.TryGetValue(secretHash, out var entry) && entry.Generation == generation)
        {
            match = entry.Match;
            return true;
        }

        match = null;
        return false;
    }

    /// <summary>Caches <paramref name="match"/>, read at <paramref name="generation"/> (read before the lookup).</summary>
    public void Add(string secretHash, long generation, ApiKeyMatch match)
    {
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[secretHash] = new Entry(generation, match);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Volatile.Write(ref _last, null);
            CloseConnection();
        }
    }

    private long Step(sqlite3_stmt read)
    {
        int rc = raw.sqlite3_step(read);
        try
        {
            if (rc == raw.SQLITE_DONE)
            {
                throw new InvalidDataException("The key_generation row is missing from the database.");
            }

            if (rc != raw.SQLITE_ROW)
            {
                Check(rc);
            }

            return raw.sqlite3_column_int64(read, 0);
        }
        finally
        {
            raw.sqlite3_reset(read);
        }
    }

    private void Check(int rc) => SqliteResult.Check(rc, _connection?.Handle);

    private void CloseConnection()
    {
        // The view stays open with the database (closing it would drop its SQLite locks); the next connection maps anew.
        _wal = null;
        _walOpened = false;
        _read?.Dispose();
        _read = null;
        _connection?.Dispose();
        _connection = null;
    }

    private sealed record Entry(long Generation, ApiKeyMatch Match);

    /// <summary>A generation read from the table, and the wal-index header as it was just before that read.</summary>
    private sealed record Reading(WalIndex Wal, WalIndexHeader Header, long Generation);
}
