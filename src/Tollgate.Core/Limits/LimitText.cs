using System.Globalization;
using System.Text;

namespace Tollgate.Limits;

/// <summary>How limits, instants and durations are written in refusals and headers.</summary>
public static class LimitText
{
    /// <summary>An instant as RFC 3339 in UTC, to the second (rounded up): <c>2026-11-24T00:00:00Z</c>.</summary>
    public static string Instant(DateTimeOffset value)
    {
        long ticks = value.UtcTicks;
        long rounded = (ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond;
        return new DateTime(rounded, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>A Go-style duration as OpenAI sends it: <c>120ms</c>, <c>14s</c>, <c>6m0s</c>, <c>2h3m4s</c>.</summary>
    public static string Duration(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return ((long)Math.Ceiling(Math.Max(0, value.TotalMilliseconds))).ToString(CultureInfo.InvariantCulture) + "ms";
        }

        long seconds = (long)Math.Ceiling(value.TotalSeconds);
        var text = new StringBuilder();
        if (seconds >= 3600)
        {
            text.Append(CultureInfo.InvariantCulture, $"{seconds / 3600}h");
        }

        if (seconds >= 60)
        {
            text.Append(CultureInfo.InvariantCulture, $"{seconds / 60 % 60}m");
        }

        text.Append(CultureInfo.InvariantCulture, $"{seconds % 60}s");
        return text.ToString();
    }

    /// <summary>A limit's metric and window in words, e.g. <c>tokens per minute</c>.</summary>
    public static string Describe(LimitCheck check) => (check.Metric switch
    {
        Metric.Requests => "requests ",
        Metric.Tokens => "tokens ",
        Metric.InputTokens => "input tokens ",
        Metric.OutputTokens => "output tokens ",
        Metric.Concurrency => "concurrent requests ",
        _ => "budget ",
    }) + check.Window.Describe();
}
