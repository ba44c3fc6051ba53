using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Tollgate.Storage.Sqlite;

/// <summary>The result codes of SQLite's native calls, made on a connection's handle where a statement runs natively.</summary>
internal static class SqliteResult
{
    /// <summary>Throws the <see cref="SqliteException"/> Microsoft.Data.Sqlite would, with SQLite's message, unless <paramref name="rc"/> is <c>SQLITE_OK</c>.</summary>
    public static void Check(int rc, sqlite3? db)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, db);
        }
    }
}
