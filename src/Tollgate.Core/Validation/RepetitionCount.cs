using System.Globalization;

namespace Tollgate.Validation;

/// <summary>
/// Reads the count of an amplification request as written: <c>10000</c>, <c>1,000,000</c>, <c>1.000.000</c>,
/// <c>1 000 000</c>, <c>1.5k</c>, <c>2m</c>, <c>1e6</c>, <c>10^6</c>, <c>ten thousand</c>, <c>a million</c>,
/// <c>thousands of</c>. Saturates at <see cref="long.MaxValue"/>; returns 0 for anything else.
/// </summary>
internal static class RepetitionCount
{
    public static long Parse(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        if (text.IsEmpty)
        {
            return 0;
        }

        double value = char.IsAsciiDigit(text[0]) ? ParseNumeric(text) : ParseWords(text);
        return value >= long.MaxValue ? long.MaxValue : (long)value;
    }

    private static double ParseNumeric(ReadOnlySpan<char> text)
    {
        if (IsGrouped(text))
        {
            double grouped = 0;
            foreach (char c in text)
            {
                if (char.IsAsciiDigit(c))
                {
                    grouped = (grouped * 10) + (c - '0');
                }
            }

            return grouped;
        }

        int end = 0;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.'))
        {
            end++;
        }

        if (!double.TryParse(text[..end], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
        {
            return 0;
        }

        var rest = text[end..].Trim();
        if (rest.StartsWith("e", StringComparison.OrdinalIgnoreCase) || rest.StartsWith("^", StringComparison.Ordinal) || rest.StartsWith("**", StringComparison.Ordinal))
        {
            var exponentText = rest.TrimStart("eE^*").Trim();
            double exponent = double.TryParse(exponentText, NumberStyles.None, CultureInfo.InvariantCulture, out double e) ? e : 0;
            return rest[0] is 'e' or 'E' ? number * Math.Pow(10, exponent) : Math.Pow(number, exponent);
        }

        return number * Multiplier(rest);
    }

    // "1,000,000", "1.000.000", "1 000 000": one to three digits, then groups of a separator and three digits.
    private static bool IsGrouped(ReadOnlySpan<char> text)
    {
        int lead = 0;
        while (lead < text.Length && char.IsAsciiDigit(text[lead]))
        {
            lead++;
        }

        if (lead is 0 or > 3 || lead == text.Length || (text.Length - lead) % 4 != 0)
        {
            return false;
        }

        for (int i = lead; i < text.Length; i += 4)
        {
            if (char.IsAsciiDigit(text[i]) || !char.IsAsciiDigit(text[i + 1]) || !char.IsAsciiDigit(text[i + 2]) || !char.IsAsciiDigit(text[i + 3]))
            {
                return false;
            }
        }

        return true;
    }

    private static double ParseWords(ReadOnlySpan<char> text)
    {
        double value = 1;
        bool any = false;
        foreach (var range in text.SplitAny(" \t\r\n\u00A0"))
        {
            var word = text[range];
            if (word.IsEmpty || word.Equals("of", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            double factor = Multiplier(word);
            if (factor == 1)
            {
                factor = Small(word);
            }

            if (factor > 0)
            {
                value *= factor;
                any = true;
            }
        }

        return any ? value : 0;
    }

    private static double Multiplier(ReadOnlySpan<char> word)
    {
        word = word.TrimEnd('s');
        return word.ToString().ToUpperInvariant() switch
        {
            "K" or "THOUSAND" => 1e3,
            "M" or "MM" or "MIL" or "MILLION" => 1e6,
            "BN" or "BILLION" => 1e9,
            "TRILLION" => 1e12,
            "HUNDRED" => 1e2,
            _ => 1,
        };
    }

    private static double Small(ReadOnlySpan<char> word) => word.ToString().ToUpperInvariant() switch
    {
        "A" or "AN" or "ONE" => 1,
        "TWO" or "SEVERAL" or "MANY" or "FEW" => 2,
        "THREE" => 3,
        "FOUR" => 4,
        "FIVE" => 5,
        "SIX" => 6,
        "SEVEN" => 7,
        "EIGHT" => 8,
        "NINE" => 9,
        "TEN" => 10,
        "TWENTY" => 20,
        "THIRTY" => 30,
        "FORTY" => 40,
        "FIFTY" => 50,
        "SIXTY" => 60,
        "SEVENTY" => 70,
        "EIGHTY" => 80,
        "NINETY" => 90,
        _ => 0,
    };
}
