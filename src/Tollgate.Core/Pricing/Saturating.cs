namespace Tollgate.Pricing;

/// <summary>
/// Saturating arithmetic for token counts and money: a sum that would overflow a <see cref="long"/> stays at
/// <see cref="long.MaxValue"/> (or <see cref="long.MinValue"/>) instead of wrapping around or throwing. Nothing on the
/// request path, in a counter or in a report may turn an absurd figure into a small or negative one.
/// </summary>
public static class Saturating
{
    /// <summary><paramref name="a"/> + <paramref name="b"/>, held at the bounds of <see cref="long"/>.</summary>
    public static long Add(long a, long b)
    {
        long sum = unchecked(a + b);
        // Overflow happened when both operands have the same sign and the result's sign differs.
        return ((a ^ sum) & (b ^ sum)) < 0 ? (a < 0 ? long.MinValue : long.MaxValue) : sum;
    }

    /// <summary><paramref name="a"/> × <paramref name="b"/>, held at the bounds of <see cref="long"/>.</summary>
    public static long Multiply(long a, long b)
    {
        Int128 product = (Int128)a * b;
        return product > long.MaxValue ? long.MaxValue : product < long.MinValue ? long.MinValue : (long)product;
    }

    /// <summary>The saturating sum of <paramref name="selector"/> over <paramref name="items"/>.</summary>
    public static long Sum<T>(IEnumerable<T> items, Func<T, long> selector)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(selector);
        long total = 0;
        foreach (var item in items)
        {
            total = Add(total, selector(item));
        }

        return total;
    }
}
