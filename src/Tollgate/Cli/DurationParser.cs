using System.Globalization;

namespace Tollgate.Cli;

/// <summary>Reads <c>--expires</c> and <c>--grace</c> values: a duration (<c>30d</c>, <c>12h</c>, <c>45m</c>, <c>90s</c>) or a date (<c>2027-01-31</c>, ISO 8601).</summary>
internal static class DurationParser
{
    public static bool TryParseDuration(string value, out TimeSpan duration)
    {
        duration = default;
        if (value.Length < 2 || !long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            return false;
        }

        try
        {
            duration = char.ToLowerInvariant(value[^1]) switch
            {
                'd' => TimeSpan.FromDays(n),
                'h' => TimeSpan.FromHours(n),
                'm' => TimeSpan.FromMinutes(n),
                's' => TimeSpan.FromSeconds(n),
                _ => TimeSpan.MinValue,
            };
        }
        catch (OverflowException)
        {
            return false;
        }

        return duration != TimeSpan.MinValue;
    }

    public static DateTimeOffset ParseExpiry(string value, DateTimeOffset now)
    {
        if (TryParseDuration(value, out var duration))
        {
            return duration > TimeSpan.Zero ? now + duration : throw new CliUsageException($"--expires must be in the future: '{value}'.");
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at > now ? at : throw new CliUsageException($"--expires must be in the future: '{value}'.");
        }

        throw new CliUsageException($"--expires must be a duration (30d, 12h, 45m) or a date (2027-01-31): '{value}'.");
    }
}
