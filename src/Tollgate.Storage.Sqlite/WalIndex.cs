using System.IO.MemoryMappedFiles;

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
/// reads as "changed" (<see cref="TryRead"/> returns false), so a caller falls back to reading the database.
/// </para>
/// </remarks>
internal sealed class WalIndex : IDisposable
{
    private const int HeaderBytes = 48;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    private WalIndex(MemoryMappedFile file, MemoryMappedViewAccessor view)
    {
        _file = file;
        _view = view;
    }

    /// <summary>
    /// Maps the wal-index of the database at <paramref name="databasePath"/>, or null when there is none to map (the
    /// database is not in WAL mode, or its <c>-shm</c> file is missing or too short).
    /// </summary>
    public static WalIndex? TryOpen(string databasePath)
    {
        string path = databasePath + "-shm";
        FileStream? stream = null;
        MemoryMappedFile? file = null;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            if (stream.Length < 2 * HeaderBytes)
            {
                stream.Dispose();
                return null;
            }

            file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            return new WalIndex(file, file.CreateViewAccessor(0, 2 * HeaderBytes, MemoryMappedFileAccess.Read));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            stream?.Dispose();
            return null;
        }
    }

    /// <summary>
    /// The header as it is now, when its two copies match and it is initialized; false while a writer is rewriting it
    /// (or after <see cref="Dispose"/>).
    /// </summary>
    public bool TryRead(out WalIndexHeader header)
    {
        try
        {
            var first = Read(0);
            Interlocked.MemoryBarrier();
            var second = Read(HeaderBytes);
            header = first;
            return first == second && first.IsInitialized;
        }
        catch (ObjectDisposedException)
        {
            header = default;
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }

    private WalIndexHeader Read(long at) => new(
        _view.ReadInt64(at), _view.ReadInt64(at + 8), _view.ReadInt64(at + 16),
        _view.ReadInt64(at + 24), _view.ReadInt64(at + 32), _view.ReadInt64(at + 40));
}

/// <summary>The 48 bytes of one copy of a wal-index header (<see cref="WalIndex"/>), compared as a whole.</summary>
internal readonly record struct WalIndexHeader(long Word0, long Word1, long Word2, long Word3, long Word4, long Word5)
{
    /// <summary>Byte 12, <c>isInit</c>, set once the header has been written (the file is in the machine's byte order).</summary>
    public bool IsInitialized => ((BitConverter.IsLittleEndian ? Word1 >> 32 : Word1 >> 24) & 0xFF) != 0;
}
