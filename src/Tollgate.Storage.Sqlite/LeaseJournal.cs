using System.Buffers;
using Tollgate.Audit;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// The reservation leases of one database, in an append-only file beside it (<c>&lt;database&gt;-leases</c>), with the
/// leases not yet settled in memory. A lease is one <c>write()</c> of one line, made on the caller's thread before
/// <see cref="Add"/> returns: in the operating system's page cache it survives the process being killed (as SQLite's WAL
/// with <c>synchronous=NORMAL</c> does), not a power loss. Which leases are settled is kept in the database, in the
/// transaction of the records that settle them (table <c>settled_leases</c>); the file is rewritten with the leases still
/// open when it grows past <see cref="RotateAt"/> (<see cref="Rotate"/>), after which those marks can go.
/// </summary>
/// <remarks>
/// Every line starts with a line feed, so a line torn by a kill mid-write (never acknowledged to its caller) cannot join
/// the next one. One process writes a database's journal: <see cref="SqliteDatabase"/> holds one per file.
/// </remarks>
internal sealed class LeaseJournal : IDisposable
{
    /// <summary>The default of <see cref="RotateAt"/>: 8 MiB, about 20,000 leases.</summary>
    public const long RotateAtBytes = 8 * 1024 * 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ReservationLease> _open = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _line = new(512);
    private FileStream? _file;
    private long _length;

    /// <summary>Creates the journal at <paramref name="path"/> (nothing is opened until <see cref="Open"/>).</summary>
    public LeaseJournal(string path) => Path = path;

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The size past which the ledger's next batch rewrites the file with the open leases only.</summary>
    public long RotateAt { get; set; } = RotateAtBytes;

    /// <summary>Whether <see cref="Open"/> has run.</summary>
    public bool IsOpen => Volatile.Read(ref _file) is not null;

    /// <summary>Whether the file has grown past <see cref="RotateAt"/>.</summary>
    public bool ShouldRotate
    {
        get
        {
            lock (_lock)
            {
                return _length > RotateAt;
            }
        }
    }

    /// <summary>
    /// Reads the file: its leases, less those in <paramref name="settled"/>, plus <paramref name="more"/> (leases kept
    /// elsewhere until now), are the open ones; then rewrites the file with them alone. After it returns, the marks in
    /// <paramref name="settled"/> are no longer needed.
    /// </summary>
    public void Open(IReadOnlySet<string> settled, IEnumerable<ReservationLease> more)
    {
        lock (_lock)
        {
            if (_file is not null)
            {
                return;
            }

            var leases = new Dictionary<string, ReservationLease>(StringComparer.Ordinal);
            if (File.Exists(Path))
            {
                ReadLines(File.ReadAllBytes(Path), leases);
            }

            foreach (string id in settled)
            {
                leases.Remove(id);
            }

            foreach (var lease in more)
            {
                leases.TryAdd(lease.Id, lease);
            }

            foreach (var (id, lease) in leases)
            {
                _open[id] = lease;
            }

            RewriteLocked();
        }
    }

    /// <summary>Writes <paramref name="lease"/>; it is durable (as above) when this returns.</summary>
    /// <exception cref="InvalidOperationException">A lease with the same id is open.</exception>
    /// <exception cref="IOException">The file cannot be written (the lease is not recorded).</exception>
    public void Add(ReservationLease lease)
    {
        lock (_lock)
        {
            if (_open.ContainsKey(lease.Id))
            {
                throw new InvalidOperationException($"Lease {lease.Id} already exists.");
            }

            _line.ResetWrittenCount();
            _line.Write("\n"u8);
            LeaseJournalLine.WriteLease(_line, lease);
            WriteLocked(_line.WrittenSpan);
            _open.Add(lease.Id, lease);
        }
    }

    /// <summary>Notes that open lease <paramref name="leaseId"/> holds background response <paramref name="responseId"/>; nothing when it is settled.</summary>
    public void MarkBackground(string leaseId, string responseId)
    {
        lock (_lock)
        {
            if (!_open.TryGetValue(leaseId, out var lease))
            {
                return;
            }

            _line.ResetWrittenCount();
            _line.Write("\n"u8);
            LeaseJournalLine.WriteBackground(_line, leaseId, responseId);
            WriteLocked(_line.WrittenSpan);
            _open[leaseId] = lease with { BackgroundResponseId = responseId };
        }
    }

    /// <summary>Forgets the leases <paramref name="ids"/>, whose settling records are committed (unknown ids are ignored).</summary>
    public void Settle(IReadOnlyCollection<string> ids)
    {
        lock (_lock)
        {
            foreach (string id in ids)
            {
                _open.Remove(id);
            }
        }
    }

    /// <summary>The open leases, by timestamp then id (ordinal).</summary>
    public IReadOnlyList<ReservationLease> OpenLeases()
    {
        List<ReservationLease> leases;
        lock (_lock)
        {
            leases = [.. _open.Values];
        }

        leases.Sort(static (a, b) => a.Timestamp != b.Timestamp ? a.Timestamp.CompareTo(b.Timestamp) : string.CompareOrdinal(a.Id, b.Id));
        return leases;
    }

    /// <summary>
    /// Rewrites the file with the open leases alone (a new file renamed over the old one), so that the marks of the
    /// leases settled until now are no longer needed.
    /// </summary>
    public void Rotate()
    {
        lock (_lock)
        {
            RewriteLocked();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_lock)
        {
            _file?.Dispose();
        }
    }

    private void RewriteLocked()
    {
        string next = Path + ".next";
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, _open.Count * 512));
        foreach (var lease in _open.Values)
        {
            buffer.Write("\n"u8);
            LeaseJournalLine.WriteLease(buffer, lease);
        }

        using (var file = new FileStream(next, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            file.Write(buffer.WrittenSpan);
        }

        File.Move(next, Path, overwrite: true);
        _file?.Dispose();
        Volatile.Write(ref _file, new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0));
        _length = buffer.WrittenCount;
    }

    private void WriteLocked(ReadOnlySpan<byte> bytes)
    {
        var file = _file ?? throw new InvalidOperationException("The lease journal is not open.");
        file.Write(bytes);
        _length += bytes.Length;
    }

    private static void ReadLines(ReadOnlySpan<byte> text, Dictionary<string, ReservationLease> leases)
    {
        while (!text.IsEmpty)
        {
            int end = text.IndexOf((byte)'\n');
            var line = end < 0 ? text : text[..end];
            text = end < 0 ? default : text[(end + 1)..];
            if (!line.IsEmpty)
            {
                // A line that does not read is the last one of a writer killed mid-write: its lease never reached the upstream.
                LeaseJournalLine.TryApply(line, leases);
            }
        }
    }
}
