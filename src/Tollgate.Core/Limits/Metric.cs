namespace Tollgate.Limits;

/// <summary>What a limit counts.</summary>
public enum Metric
{
    /// <summary>Admitted requests (one each, whatever the outcome).</summary>
    Requests,

    /// <summary>Input plus output tokens.</summary>
    Tokens,

    /// <summary>Input tokens only.</summary>
    InputTokens,

    /// <summary>Output tokens only.</summary>
    OutputTokens,

    /// <summary>Requests in flight at once.</summary>
    Concurrency,

    /// <summary>Money, in nano-dollars.</summary>
    Spend,
}

/// <summary>The window a limit is counted over.</summary>
public enum Window
{
    /// <summary>No window: a gauge of what is in flight (concurrency).</summary>
    Concurrent,

    /// <summary>The last 60 seconds, sliding, in 1-second slots.</summary>
    Minute,

    /// <summary>The last 60 minutes, sliding, in 1-minute slots.</summary>
    Hour,

    /// <summary>The last 24 hours, sliding, in 24-minute slots.</summary>
    Day,

    /// <summary>The calendar day in the scope's time zone (budgets).</summary>
    CalendarDay,

    /// <summary>The calendar month in the scope's time zone (budgets).</summary>
    CalendarMonth,
}

/// <summary>Names and durations of <see cref="Window"/> values.</summary>
public static class Windows
{
    /// <summary>Slots per sliding window: the rate windows are exact to 1/60 of their length.</summary>
    public const int Slots = 60;

    /// <summary>The length of a sliding window.</summary>
    public static TimeSpan Length(this Window window) => window switch
    {
        Window.Minute => TimeSpan.FromMinutes(1),
        Window.Hour => TimeSpan.FromHours(1),
        Window.Day => TimeSpan.FromDays(1),
        _ => TimeSpan.Zero,
    };

    /// <summary>Whether the window slides (rather than resetting on the calendar).</summary>
    public static bool IsSliding(this Window window) => window is Window.Minute or Window.Hour or Window.Day;

    /// <summary>How the window reads in a message, e.g. "per minute", "per calendar day".</summary>
    public static string Describe(this Window window) => window switch
    {
        Window.Minute => "per minute",
        Window.Hour => "per hour",
        Window.Day => "per day",
        Window.CalendarDay => "per calendar day",
        Window.CalendarMonth => "per calendar month",
        _ => "at once",
    };
}
