namespace Tollgate.Pricing;

/// <summary>A model's prices in integer micro-dollars per million tokens (= pico-dollars per token).</summary>
/// <param name="InputMicrosPerMillion">Uncached input.</param>
/// <param name="CachedInputMicrosPerMillion">Cached input (cache reads).</param>
/// <param name="OutputMicrosPerMillion">Output, reasoning included.</param>
public readonly record struct ModelPrice(long InputMicrosPerMillion, long CachedInputMicrosPerMillion, long OutputMicrosPerMillion)
{
    private const long PicosPerNano = 1000;

    /// <summary>Input written to the prompt cache for five minutes; the uncached input rate unless set.</summary>
    public long CacheWrite5mMicrosPerMillion { get; init; } = InputMicrosPerMillion;

    /// <summary>Input written to the prompt cache for an hour; the uncached input rate unless set.</summary>
    public long CacheWrite1hMicrosPerMillion { get; init; } = InputMicrosPerMillion;

    /// <summary>
    /// The highest rate an input token of a request can be billed at: the uncached rate, or a cache-write rate when
    /// the request asks for cache writes of that lifetime (<paramref name="cacheWrites"/>).
    /// </summary>
    public long HighestInputMicrosPerMillion(CacheWrites cacheWrites)
    {
        long rate = InputMicrosPerMillion;
        if (cacheWrites >= CacheWrites.FiveMinutes)
        {
            rate = Math.Max(rate, CacheWrite5mMicrosPerMillion);
        }

        if (cacheWrites >= CacheWrites.OneHour)
        {
            // A one-hour breakpoint can come with five-minute ones.
            rate = Math.Max(rate, Math.Max(CacheWrite5mMicrosPerMillion, CacheWrite1hMicrosPerMillion));
        }

        return rate;
    }

    /// <summary>
    /// The cost of <paramref name="usage"/> in nano-dollars: exact in pico-dollars, rounded up once.
    /// Cached input tokens and cache writes are part of <see cref="TokenUsage.InputTokens"/> and priced at their rates.
    /// </summary>
    public long CostNanos(in TokenUsage usage) => RoundUp(Picos(usage), PicosPerNano);

    /// <summary>
    /// <paramref name="percent"/> percent of the cost of <paramref name="usage"/> in nano-dollars (a response cache
    /// hit's price): exact in pico-dollars, rounded up once.
    /// </summary>
    public long CostNanos(in TokenUsage usage, int percent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        return RoundUp(Picos(usage) * percent, PicosPerNano * 100);
    }

    private Int128 Picos(in TokenUsage usage)
    {
        long input = Math.Max(0, usage.InputTokens);
        long cached = Math.Clamp(usage.CachedInputTokens, 0, input);
        long write5m = Math.Clamp(usage.CacheWrite5mTokens, 0, input - cached);
        long write1h = Math.Clamp(usage.CacheWrite1hTokens, 0, input - cached - write5m);
        long uncached = input - cached - write5m - write1h;
        return (Int128)uncached * InputMicrosPerMillion
            + (Int128)cached * CachedInputMicrosPerMillion
            + (Int128)write5m * CacheWrite5mMicrosPerMillion
            + (Int128)write1h * CacheWrite1hMicrosPerMillion
            + (Int128)usage.OutputTokens * OutputMicrosPerMillion;
    }

    private static long RoundUp(Int128 amount, long unit)
    {
        Int128 units = (amount + unit - 1) / unit;
        return units > long.MaxValue ? long.MaxValue : (long)units;
    }
}

/// <summary>The prompt-cache writes a request asks for, by their longest lifetime.</summary>
public enum CacheWrites
{
    /// <summary>No cache breakpoint: nothing is written to the cache.</summary>
    None = 0,

    /// <summary>Five-minute breakpoints (Anthropic's default <c>cache_control</c>).</summary>
    FiveMinutes = 1,

    /// <summary>At least one one-hour breakpoint (<c>cache_control.ttl: "1h"</c>).</summary>
    OneHour = 2,
}
