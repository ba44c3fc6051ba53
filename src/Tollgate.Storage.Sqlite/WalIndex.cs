using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// A read-only view of the header of a WAL-mode database's wal-index (the <c>-shm</c> file beside it, which every
/// connection to the database maps, in every process): it tells, without a lock, a system call or a transaction,
/// whether anything was committed to the database since an earlier look.
/// </summary>
/// <remarks>
/// <para>
/// The header is laid out in SQLite's "WAL-mode file format" (sqlite.org/walformat.html, section 2.1): 48 bytes
/// holding, among others, a counter of write transactions (<c>iChange</c>), the last valid frame (<c>mxFrame</c>), the
/// WAL's salts and a checksum of the whole; two copies of it follow each other. A committing writer, in any process,
/// rewrites the second copy, then the first, behind a memory barrier; a reader takes the first, then the second, and
/// trusts them only when they match. This reader does the same, and does not interpret the fields: any commit, restart
/// or recovery of the WAL changes the header, and an unchanged header means that a new read transaction would see
/// exactly what an earlier one saw.
/// </para>
/// <para>
/// Only a match is ever trusted: a header being rewritten, a file too short to hold one, or one not yet initialized
/// reads as "changed" (<see cref="TryRead"/> returns false), so a caller falls back to reading the database. The
/// mapping is read in place, with no reference count or bounds check per read.
/// </para>
/// </remarks>
internal sealed class WalIndex : IDisposable
{
    private const int HeaderBytes = 48;

    private readonly FileStream _stream;
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly IntPtr _header;
    private volatile bool _disposed;

    private WalIndex(FileStream stream, MemoryMappedFile? file, MemoryMappedViewAccessor? view)
    {
        _stream = stream;
        _file = file;
        _view = view;
        if (view is not null)
        {
            // Held from here to Dispose, so that a read takes no reference count of its own.
            bool added = false;
            view.SafeMemoryMappedViewHandle.DangerousAddRef(ref added);
            _header = view.SafeMemoryMappedViewHandle.DangerousGetHandle() + (nint)view.PointerOffset;
        }
    }

    /// <summary>Whether the header can be read (a view that cannot reads as "changed" every time).</summary>
    public bool IsMapped => _view is not null;

    /// <summary>
    /// Maps the wal-index of the database file <paramref name="databasePath"/> (as SQLite names it), or null when it has
    /// no <c>-shm</c> file.
    /// </summary>
    /// <remarks>
    /// Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's own included, which
    /// would let another process take the wal-index for unused and rebuild it under live connections. So the file, once
    /// opened, stays open: <see cref="SqliteDatabase"/> keeps every view it mapped for as long as it lives, and only
    /// tests call <see cref="Dispose"/>. One too short to map is kept open too, and never reads as unchanged.
    /// </remarks>
    public static WalIndex? TryOpen(string databasePath)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(databasePath + "-shm", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        try
        {
            if (stream.Length < 2 * HeaderBytes)
            {
                return new WalIndex(stream, null, null);
            }

            var file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: true);
            return new WalIndex(stream, file, file.CreateViewAccessor(0, 2 * HeaderBytes, MemoryMappedFileAccess.Read));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new WalIndex(stream, null, null);
        }
    }

    /// <summary>
    /// The header as it is now, when its two copies match and it is initialized; false while a writer is rewriting it,
    /// when it cannot be mapped, or after <see cref="Dispose"/>.
    /// </summary>
    public bool TryRead(out WalIndexHeader header)
    {
        if (_view is null || _disposed)
        {
            header = default;
            return false;
        }

        var first = Read(_header);
        Interlocked.MemoryBarrier();
        var second = Read(_header + HeaderBytes);
        header = first;
        return first == second && first.IsInitialized;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.DangerousRelease();
            _view.Dispose();
        }

        _file?.Dispose();
        _stream.Dispose();
    }

    private static WalIndexHeader Read(IntPtr at) => new(
        Marshal.ReadInt64(at), Marshal.ReadInt64(at, 8), Marshal.ReadInt64(at, 16),
        Marshal.ReadInt64(at, 24), Marshal.ReadInt64(at, 32), Marshal.ReadInt64(at, 40));
}

/// <summary>The 48 bytes of one copy of a wal-index header (<see cref="WalIndex"/>), compared as a whole.</summary>
internal readonly record struct WalIndexHeader(long Word0, long Word1, long Word2, long Word3, long Word4, long Word5)
{
    /// <summary>Byte 12, <c>isInit</c>, set once the header has been written (the file is in the machine's byte order).</summary>
    public bool IsInitialized => ((BitConverter.IsLittleEndian ? Word1 >> 32 : Word1 >> 24) & 0xFF) != 0;
}
