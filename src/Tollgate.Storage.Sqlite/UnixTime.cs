namespace Tollgate.Storage.Sqlite;

/// <summary>
/// Timestamps are stored as INTEGER unix milliseconds (UTC). Bounds of filters round up, so that comparing stored
/// milliseconds gives the same answer as comparing the instants themselves.
/// </summary>
internal static class UnixTime
{
    public static long ToMilliseconds(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static object ToDbValue(DateTimeOffset? value) => value is { } v ? v.ToUnixTimeMilliseconds() : DBNull.Value;

    /// <summary>The smallest whole millisecond at or after <paramref name="value"/>.</summary>
    public static long CeilingMilliseconds(DateTimeOffset value)
    {
        long ms = value.ToUnixTimeMilliseconds();
        return value.UtcTicks % TimeSpan.TicksPerMillisecond == 0 ? ms : ms + 1;
    }

    public static DateTimeOffset FromMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
}
