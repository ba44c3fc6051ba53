using System.Globalization;

namespace Tollgate.Limits;

/// <summary>How limits, instants and durations are written in refusals and headers.</summary>
public static class LimitText
{
    /// <summary>An instant as RFC 3339 in UTC, to the second (rounded up): <c>2026-11-24T00:00:00Z</c>.</summary>
    public static string Instant(DateTimeOffset value)
    {
        long ticks = value.UtcTicks;
        long rounded = (ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond;
        // The sortable standard format ("s") is yyyy-MM-ddTHH:mm:ss, always 19 characters, written without parsing a
        // custom format on every call (these go out in headers on every admitted response).
        Span<char> text = stackalloc char[20];
        new DateTime(rounded, DateTimeKind.Utc).TryFormat(text, out int written, "s", CultureInfo.InvariantCulture);
        text[written] = 'Z';
        return new string(text[..(written + 1)]);
    }

    /// <summary>A Go-style duration as OpenAI sends it: <c>120ms</c>, <c>14s</c>, <c>6m0s</c>, <c>2h3m4s</c>.</summary>
    public static string Duration(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return ((long)Math.Ceiling(Math.Max(0, value.TotalMilliseconds))).ToString(CultureInfo.InvariantCulture) + "ms";
        }

        long seconds = (long)Math.Ceiling(value.TotalSeconds);
        Span<char> text = stackalloc char[32];
        int length = 0;
        if (seconds >= 3600)
        {
            length += Part(text[length..], seconds / 3600, 'h');
        }

        if (seconds >= 60)
        {
            length += Part(text[length..], seconds / 60 % 60, 'm');
        }

        length += Part(text[length..], seconds % 60, 's');
        return new string(text[..length]);

        static int Part(Span<char> into, long number, char unit)
        {
            number.TryFormat(into, out int written, default, CultureInfo.InvariantCulture);
            into[written] = unit;
            return written + 1;
        }
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
