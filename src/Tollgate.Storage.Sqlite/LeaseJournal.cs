using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Tollgate.Audit;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// The reservation leases of one database, in an append-only file beside it (<c>&lt;database&gt;-leases</c>), with the
/// leases not yet settled in memory. A lease is one line, copied on the caller's thread, before <see cref="Add"/>
/// returns, into the file's pages through a shared memory mapping: in the operating system's page cache, it survives
/// the process being killed (as SQLite's WAL with <c>synchronous=NORMAL</c> does), not a power loss. Which leases are
/// settled is kept in the database, in the transaction of the records that settle them (table <c>settled_leases</c>);
/// the file is rewritten with the leases still open when it grows past <see cref="RotateAt"/> (<see cref="Rotate"/>),
/// after which those marks can go.
/// </summary>
/// <remarks>
/// <para>
/// The file is made, and its disk space allocated, with room past its lines (past <see cref="RotateAt"/> and
/// <see cref="Headroom"/> more), and mapped whole; its length is the mapping's, its bytes past the last line zero.
/// Writing a lease is therefore a copy, with no system call. On Linux the pages are made ready ahead of the lines, a few
/// dozen at a time (see <see cref="Mapping"/>); elsewhere the kernel takes a page fault the first time a page is
/// written, one for about ten leases. A full disk is an <see cref="IOException"/> when the file is made, not a fault
/// when a page is written (on a file system that cannot allocate ahead, it may be). Should the lines reach the end of
/// the mapping before the ledger rotates the file, it is rewritten then, with the open leases and room again.
/// </para>
/// <para>
/// Every line starts with a line feed, and a reader ends a line at a zero byte as well, so a line torn by a kill
/// mid-copy (never acknowledged to its caller) cannot join the next one. One process writes a database's journal:
/// <see cref="SqliteDatabase"/> holds one per file.
/// </para>
/// </remarks>
internal sealed class LeaseJournal : IDisposable
{
    /// <summary>The default of <see cref="RotateAt"/>: 8 MiB, about 20,000 leases.</summary>
    public const long RotateAtBytes = 8 * 1024 * 1024;

    /// <summary>How far the mapping reaches past the larger of the lines written and <see cref="RotateAt"/>: 1 MiB.</summary>
    public const long Headroom = 1024 * 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ReservationLease> _open = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _line = new(512);
    private Mapping? _file;
    private long _length;
    private bool _disposed;

    /// <summary>Creates the journal at <paramref name="path"/> (nothing is opened until <see cref="Open"/>).</summary>
    public LeaseJournal(string path) => Path = path;

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The size past which the ledger's next batch rewrites the file with the open leases only.</summary>
    public long RotateAt { get; set; } = RotateAtBytes;

    /// <summary>Whether <see cref="Open"/> has run.</summary>
    public bool IsOpen => Volatile.Read(ref _file) is not null;

    /// <summary>The bytes of the lines written to the file (its length is the mapping's, and larger).</summary>
    public long Length
    {
        get
        {
            lock (_lock)
            {
                return _length;
            }
        }
    }

    /// <summary>
    /// How far into the mapping its pages were made ready ahead of the lines (see <see cref="Mapping"/>), or 0 where that
    /// is not done; the pages before the first line written after it was mapped are not.
    /// </summary>
    internal long PopulatedBytes
    {
        get
        {
            lock (_lock)
            {
                return _file?.Populated ?? 0;
            }
        }
    }

    /// <summary>The size of the current mapping.</summary>
    internal long Capacity
    {
        get
        {
            lock (_lock)
            {
                return _file?.Capacity ?? 0;
            }
        }
    }

    /// <summary>How far ahead of the lines the pages are made ready (see <see cref="Mapping"/>).</summary>
    internal const long PopulateAhead = Mapping.PopulateAhead;

    /// <summary>Whether this machine refused to make pages ready ahead (an older kernel): they fault in as they are written.</summary>
    internal static bool PopulateRefused => Mapping.Refused;

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
            ObjectDisposedException.ThrowIf(_disposed, this);
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
    /// <exception cref="IOException">The new file cannot be made (the old one stays in use).</exception>
    /// <exception cref="UnauthorizedAccessException">The new file's name cannot be written (the old one stays in use).</exception>
    public void Rotate()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RewriteLocked();
        }
    }

    /// <summary>
    /// <see cref="Rotate"/>, or false when the new file cannot be made (a full disk, say): the old one stays in use,
    /// with room left in its mapping, and the marks of settled leases are still needed.
    /// </summary>
    public bool TryRotate()
    {
        try
        {
            Rotate();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Unmaps the file and cuts it to the lines written; the journal cannot be used after. (A gateway never disposes
    /// its journal: its file keeps the zero tail, which readers skip.)
    /// </summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _file?.Close(_length);
            _file = null;
            _disposed = true;
        }
    }

    /// <summary>
    /// Writes the open leases to a new file, mapped with room for <paramref name="room"/> more bytes, and renames it over
    /// the old one, which is unmapped afterwards. If any of it fails, the old file stays in use and the error propagates.
    /// </summary>
    private void RewriteLocked(long room = 0)
    {
        string next = Path + ".next";
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, _open.Count * 512));
        foreach (var lease in _open.Values)
        {
            buffer.Write("\n"u8);
            LeaseJournalLine.WriteLease(buffer, lease);
        }

        var created = Mapping.Create(next, buffer.WrittenSpan, CapacityFor(buffer.WrittenCount + room));
        try
        {
            File.Move(next, Path, overwrite: true);
        }
        catch
        {
            created.Close(length: null);
            throw;
        }

        // The old file has no name any more; its mapping goes once the new one is in use.
        var old = _file;
        Volatile.Write(ref _file, created);
        _length = buffer.WrittenCount;
        try
        {
            old?.Close(length: null);
        }
        catch (IOException)
        {
            // Nothing reads the old file again.
        }
    }

    private void WriteLocked(ReadOnlySpan<byte> bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var file = _file ?? throw new InvalidOperationException("The lease journal is not open.");
        if (_length + bytes.Length > file.Capacity)
        {
            // Full before the ledger rotated it (it rotates past RotateAt, well inside the mapping): rewritten now.
            RewriteLocked(room: bytes.Length);
            file = _file!;
        }

        file.Write(_length, bytes);
        _length += bytes.Length;
    }

    /// <summary>The mapping's size for <paramref name="length"/> bytes: past both them and the bound, in whole 64 KiB.</summary>
    private long CapacityFor(long length)
    {
        const long Unit = 64 * 1024;
        long capacity = Math.Max(length, RotateAt) + Headroom;
        return (capacity + Unit - 1) / Unit * Unit;
    }

    private static void ReadLines(ReadOnlySpan<byte> text, Dictionary<string, ReservationLease> leases)
    {
        text = text[..(text.LastIndexOfAnyExcept((byte)0) + 1)];
        while (!text.IsEmpty)
        {
            // A zero byte ends a line too: the rest of a line torn by a kill mid-copy (the unwritten tail is cut above).
            int end = text.IndexOfAny((byte)'\n', (byte)0);
            var line = end < 0 ? text : text[..end];
            text = end < 0 ? default : text[(end + 1)..];
            if (!line.IsEmpty)
            {
                // A line that does not read is the last one of a writer killed mid-write: its lease never reached the upstream.
                LeaseJournalLine.TryApply(line, leases);
            }
        }
    }

    /// <summary>The journal file, mapped shared and writable over <see cref="Capacity"/> bytes.</summary>
    /// <remarks>
    /// On Linux the pages are made ready ahead of the lines, <see cref="PopulateAhead"/> bytes at a time, with one
    /// <c>madvise(MADV_POPULATE_WRITE)</c> (Linux 5.14 and later): the kernel prepares them in one call instead of
    /// taking a page fault on the first write to each, about one fault for every ten leases, each a trap into the
    /// kernel. A kernel that does not know the call (or a file system that cannot) turns it off for the process; any
    /// other failure (short of memory, say) skips that range. Either way those pages fault in as they are first
    /// written, as before. The bytes are not changed: the pages stay zero until lines are copied into them. (A page
    /// made ready and then not written for about half a minute, at a very low lease rate, is written back and faults
    /// once more when its first line comes.)
    /// </remarks>
    private sealed class Mapping
    {
        /// <summary>How far ahead of the lines the pages are made ready: 64 KiB, about 150 leases.</summary>
        public const long PopulateAhead = 64 * 1024;

        private const int MadvPopulateWrite = 23;
        private const int EPERM = 1;
        private const int EINVAL = 22;
        private const int ENOSYS = 38;
        private const int EOPNOTSUPP = 95;
        private static readonly long s_pageSize = Environment.SystemPageSize;
        private static bool s_populateRefused;

        private readonly FileStream _stream;
        private readonly MemoryMappedFile _map;
        private readonly MemoryMappedViewStream _view;
        private long _populated;

        private Mapping(FileStream stream, MemoryMappedFile map, MemoryMappedViewStream view, long capacity)
        {
            _stream = stream;
            _map = map;
            _view = view;
            Capacity = capacity;
        }

        public long Capacity { get; }

        /// <summary>How far into the file its pages were made ready.</summary>
        public long Populated => _populated;

        /// <summary>Whether the kernel does not make pages ready (then no mapping asks again).</summary>
        public static bool Refused => Volatile.Read(ref s_populateRefused);

        /// <summary>
        /// Creates the file at <paramref name="path"/> with <paramref name="content"/>, its disk space for
        /// <paramref name="capacity"/> bytes allocated up front (so that a full disk is an <see cref="IOException"/>
        /// here, not a fault when a page of the mapping is first written), and maps it.
        /// </summary>
        public static Mapping Create(string path, ReadOnlySpan<byte> content, long capacity)
        {
            var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.ReadWrite,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0,
                PreallocationSize = capacity,
            });
            MemoryMappedFile? map = null;
            try
            {
                stream.Write(content);
                stream.SetLength(capacity);
                map = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity, MemoryMappedFileAccess.ReadWrite,
                    HandleInheritability.None, leaveOpen: true);
                return new Mapping(stream, map, map.CreateViewStream(0, capacity, MemoryMappedFileAccess.ReadWrite), capacity);
            }
            catch
            {
                map?.Dispose();
                stream.Dispose();
                throw;
            }
        }

        /// <summary>Copies <paramref name="bytes"/> into the file at <paramref name="offset"/>.</summary>
        public void Write(long offset, ReadOnlySpan<byte> bytes)
        {
            long end = offset + bytes.Length;
            if (end > _populated && OperatingSystem.IsLinux())
            {
                Populate(offset, end);
            }

            _view.Position = offset;
            _view.Write(bytes);
        }

        /// <summary>Unmaps the file, and cuts it to <paramref name="length"/> bytes when given (best effort).</summary>
        public void Close(long? length)
        {
            _view.Dispose();
            _map.Dispose();
            try
            {
                if (length is { } cut)
                {
                    _stream.SetLength(cut);
                }
            }
            catch (IOException)
            {
                // Readers end lines at the zero bytes that remain.
            }
            finally
            {
                _stream.Dispose();
            }
        }

        // Makes the pages from the one holding offset (or the first not yet ready) to PopulateAhead past end ready.
        private void Populate(long offset, long end)
        {
            if (Volatile.Read(ref s_populateRefused))
            {
                return;
            }

            long from = Math.Max(_populated, offset / s_pageSize * s_pageSize);
            long to = Math.Min(Capacity, (end + PopulateAhead + s_pageSize - 1) / s_pageSize * s_pageSize);
            if (to <= from)
            {
                return;
            }

            var handle = _view.SafeMemoryMappedViewHandle;
            bool added = false;
            int result;
            int error;
            try
            {
                handle.DangerousAddRef(ref added);
                nint start = handle.DangerousGetHandle() + (nint)_view.PointerOffset + (nint)from;
                result = Madvise(start, (nuint)(to - from), MadvPopulateWrite);
                error = result == 0 ? 0 : Marshal.GetLastPInvokeError();
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }

            if (result != 0 && error is EINVAL or ENOSYS or EPERM or EOPNOTSUPP)
            {
                // A kernel without the call, or a file system that cannot: pages fault in as they are written.
                Volatile.Write(ref s_populateRefused, true);
                return;
            }

            // Made ready, or (short of memory, interrupted) left to fault in as they are written.
            _populated = to;
        }

        [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int Madvise(nint address, nuint length, int advice);
    }
}
