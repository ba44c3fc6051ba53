using System.Globalization;

namespace Tollgate.Pricing;

/// <summary>
/// Money in Tollgate is an integer count of nano-dollars (10⁻⁹ USD) in a <see cref="long"/>: exact, with room
/// for ±9.2 billion dollars. Prices are integer micro-dollars per million tokens, so the cost of a token count is
/// an exact integer of pico-dollars (10⁻¹² USD), rounded up to nano-dollars once per request.
/// </summary>
public static class Money
{
    /// <summary>Nano-dollars in one dollar.</summary>
    public const long NanosPerDollar = 1_000_000_000;

    /// <summary>Formats nano-dollars as an exact decimal dollar string, e.g. <c>0.000012345</c>.</summary>
    public static string FormatDollars(long nanos)
    {
        // Whole dollars, then the nano-dollars without their trailing zeros: integer arithmetic only.
        ulong magnitude = nanos < 0 ? (ulong)-(nanos + 1) + 1 : (ulong)nanos;
        ulong whole = magnitude / NanosPerDollar;
        ulong fraction = magnitude % NanosPerDollar;
        Span<char> text = stackalloc char[32];
        int length = 0;
        if (nanos < 0)
        {
            text[length++] = '-';
        }

        whole.TryFormat(text[length..], out int written, default, CultureInfo.InvariantCulture);
        length += written;
        if (fraction != 0)
        {
            text[length++] = '.';
            fraction.TryFormat(text[length..], out written, "D9", CultureInfo.InvariantCulture);
            length += written;
            while (text[length - 1] == '0')
            {
                length--;
            }
        }

        return new string(text[..length]);
    }

    /// <summary>
    /// Converts a price in dollars per million tokens to integer micro-dollars per million tokens.
    /// Returns false when the price has more than six decimal places (it could not be charged exactly) or is negative.
    /// </summary>
    public static bool TryGetMicrosPerMillion(decimal dollarsPerMillion, out long microsPerMillion)
    {
        microsPerMillion = 0;
        if (dollarsPerMillion < 0 || dollarsPerMillion > 1_000_000m)
        {
            return false;
        }

        decimal micros = dollarsPerMillion * 1_000_000m;
        if (micros != decimal.Truncate(micros))
        {
            return false;
        }

        microsPerMillion = (long)micros;
        return true;
    }

    /// <summary>Converts positive dollars to nano-dollars; false when not exact to 9 decimal places or out of range.</summary>
    public static bool TryGetNanos(decimal dollars, out long nanos)
    {
        nanos = 0;
        if (dollars <= 0 || dollars > 9_000_000_000m)
        {
            return false;
        }

        decimal n = dollars * NanosPerDollar;
        if (n != decimal.Truncate(n))
        {
            return false;
        }

        nanos = (long)n;
        return true;
    }
}
