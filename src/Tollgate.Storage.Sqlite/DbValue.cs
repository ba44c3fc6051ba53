using Microsoft.Data.Sqlite;

namespace Tollgate.Storage.Sqlite;

/// <summary>Conversions between CLR values and SQLite parameters and columns.</summary>
internal static class DbValue
{
    /// <summary>SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE.</summary>
    public static bool IsUniqueViolation(SqliteException e) => e.SqliteExtendedErrorCode is 1555 or 2067;

    public static object Of(string? value) => (object?)value ?? DBNull.Value;

    public static object Of(int? value) => value is { } v ? v : DBNull.Value;

    public static object Of(long? value) => value is { } v ? v : DBNull.Value;

    public static string? GetNullableString(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static int? GetNullableInt32(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt32(ordinal);

    public static long? GetNullableInt64(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static DateTimeOffset? GetNullableTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : UnixTime.FromMilliseconds(reader.GetInt64(ordinal));

    public static DateTimeOffset GetTime(SqliteDataReader reader, int ordinal) => UnixTime.FromMilliseconds(reader.GetInt64(ordinal));
}
