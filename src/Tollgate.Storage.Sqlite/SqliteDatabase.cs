using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// One SQLite database file shared by Tollgate's stores, and possibly by several processes at once (the
/// <c>tollgate keys</c> command line while <c>tollgate serve</c> runs). Connections run in WAL mode, so readers see
/// the last committed state and never a write in progress; every write is one short <c>BEGIN IMMEDIATE</c>
/// transaction; a writer that finds the file locked waits up to <see cref="BusyTimeout"/> and then fails with a
/// <see cref="SqliteException"/> (<c>SQLITE_BUSY</c>).
/// </summary>
public sealed class SqliteDatabase
{
    /// <summary>How long a connection waits for another writer's lock by default.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(5);

    private readonly string _openPragmas;
    private readonly List<WalIndex> _walIndexes = [];

    /// <summary>Creates a handle on the database file at <paramref name="path"/> (nothing is opened yet).</summary>
    /// <param name="path">The database file; created with its directory by <see cref="InitializeAsync"/>.</param>
    public SqliteDatabase(string path)
        : this(path, DefaultBusyTimeout)
    {
    }

    /// <summary>Creates a handle on the database file at <paramref name="path"/> with a given lock wait.</summary>
    /// <param name="path">The database file; created with its directory by <see cref="InitializeAsync"/>.</param>
    /// <param name="busyTimeout">How long a statement waits for another connection's lock before it fails.</param>
    public SqliteDatabase(string path, TimeSpan busyTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(busyTimeout, TimeSpan.FromMilliseconds(1));
        Path = System.IO.Path.GetFullPath(path);
        BusyTimeout = busyTimeout;
        Leases = new LeaseJournal(Path + "-leases");
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY on its own until this many seconds (30 by default) have
            // passed; bound it by the busy timeout so a locked database fails when the caller expects it to.
            DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
        }.ToString();
        long busyMs = (long)Math.Ceiling(busyTimeout.TotalMilliseconds);
        _openPragmas = string.Create(CultureInfo.InvariantCulture,
            $"PRAGMA busy_timeout={busyMs}; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    }

    /// <summary>The full path of the database file.</summary>
    public string Path { get; }

    /// <summary>The reservation leases of this database, in a file beside it (<c>&lt;path&gt;-leases</c>).</summary>
    internal LeaseJournal Leases { get; }

    /// <summary>The connection string (<c>Data Source=…;Pooling=True</c>).</summary>
    public string ConnectionString { get; }

    /// <summary>How long a statement waits for another connection's lock before it fails with <c>SQLITE_BUSY</c>.</summary>
    public TimeSpan BusyTimeout { get; }

    /// <summary>
    /// Creates the file and its directory if needed and brings its schema up to date.
    /// Idempotent, and safe to run from several processes at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file was written by a newer Tollgate (its schema is newer).</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        string? directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await SqliteSchema.MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a pooled connection with <c>journal_mode=WAL</c>, <c>synchronous=NORMAL</c>, the busy timeout and
    /// <c>foreign_keys=ON</c>. The caller disposes it.
    /// </summary>
    public Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        // Microsoft.Data.Sqlite opens and runs statements synchronously, its Async methods included.
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(OpenConnection());
    }

    /// <summary>Opens a connection as <see cref="OpenConnectionAsync"/> does, on the calling thread.</summary>
    internal SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            connection.Open();
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText = _openPragmas;
            pragmas.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Closes this database's idle pooled connections (before the file is moved or deleted).</summary>
    public void ClearPool()
    {
        using var connection = new SqliteConnection(ConnectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>
    /// A new view of the wal-index of the database file <paramref name="file"/> (as SQLite names it, symbolic links
    /// resolved), or null when it has none. The view is never closed while this handle lives, even once its user has
    /// moved to a newer one: closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's
    /// included. A handle maps one view per key-generation connection it opens, so one more only after a failed read.
    /// </summary>
    internal WalIndex? MapWalIndex(string file)
    {
        var index = WalIndex.TryOpen(file);
        if (index is not null)
        {
            lock (_walIndexes)
            {
                _walIndexes.Add(index);
            }
        }

        return index;
    }
}
