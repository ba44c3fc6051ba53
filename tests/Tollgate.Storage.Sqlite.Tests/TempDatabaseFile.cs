namespace Tollgate.Storage.Sqlite.Tests;

/// <summary>A database file in a fresh temporary directory, deleted (with the pools on it) on dispose.</summary>
public sealed class TempDatabaseFile : IDisposable
{
    private readonly List<SqliteDatabase> _opened = [];

    public TempDatabaseFile()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("tollgate-sqlite-").FullName;
        Path = System.IO.Path.Combine(Directory, "tollgate.db");
    }

    public string Directory { get; }

    public string Path { get; }

    /// <summary>A new, initialized <see cref="SqliteDatabase"/> on the file.</summary>
    public async Task<SqliteDatabase> OpenAsync(TimeSpan? busyTimeout = null)
    {
        var database = busyTimeout is { } t ? new SqliteDatabase(Path, t) : new SqliteDatabase(Path);
        _opened.Add(database);
        await database.InitializeAsync(CancellationToken.None);
        return database;
    }

    public void Dispose()
    {
        foreach (var database in _opened)
        {
            database.ClearPool();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A connection still open somewhere: the temp directory is cleaned up by the OS.
        }
    }
}
