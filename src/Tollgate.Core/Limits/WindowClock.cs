namespace Tollgate.Limits;

/// <summary>Maps instants to sliding-window slots and calendar periods.</summary>
internal static class WindowClock
{
    /// <summary>The slot (sliding windows) or period start in unix seconds (calendar windows) that <paramref name="at"/> falls in.</summary>
    public static long SlotOf(Window window, TimeZoneInfo zone, DateTimeOffset at) => window switch
    {
        Window.Minute or Window.Hour or Window.Day => at.ToUnixTimeMilliseconds() / SlotMilliseconds(window),
        Window.CalendarDay or Window.CalendarMonth => PeriodStart(window, zone, at).ToUnixTimeSeconds(),
        _ => 0,
    };

    public static long SlotMilliseconds(Window window) => (long)window.Length().TotalMilliseconds / Windows.Slots;

    /// <summary>When a sliding slot leaves its window.</summary>
    public static DateTimeOffset SlotExpiry(Window window, long slot) =>
        DateTimeOffset.FromUnixTimeMilliseconds((slot + Windows.Slots + 1) * SlotMilliseconds(window));

    public static DateTimeOffset PeriodStart(Window window, TimeZoneInfo zone, DateTimeOffset at)
    {
        var local = TimeZoneInfo.ConvertTime(at, zone);
        var start = window == Window.CalendarMonth ? new DateTime(local.Year, local.Month, 1) : local.Date;
        return AtLocal(start, zone);
    }

    public static DateTimeOffset PeriodEnd(Window window, TimeZoneInfo zone, DateTimeOffset at)
    {
        var local = TimeZoneInfo.ConvertTime(at, zone);
        var end = window == Window.CalendarMonth ? new DateTime(local.Year, local.Month, 1).AddMonths(1) : local.Date.AddDays(1);
        return AtLocal(end, zone);
    }

    // Local midnight can be ambiguous (clocks fall back at midnight: the first, daylight occurrence starts the day)
    // or missing (clocks spring forward at midnight: the day starts at the first instant that exists).
    private static DateTimeOffset AtLocal(DateTime local, TimeZoneInfo zone)
    {
        if (zone.IsAmbiguousTime(local))
        {
            return new DateTimeOffset(local, zone.GetAmbiguousTimeOffsets(local).Max());
        }

        if (zone.IsInvalidTime(local))
        {
            var offsetBefore = zone.GetUtcOffset(local.AddHours(-3));
            return new DateTimeOffset(local, offsetBefore);
        }

        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }
}
