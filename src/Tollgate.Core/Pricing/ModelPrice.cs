namespace Tollgate.Pricing;

/// <summary>A model's prices in integer micro-dollars per million tokens (= pico-dollars per token).</summary>
/// <param name="InputMicrosPerMillion">Uncached input.</param>
/// <param name="CachedInputMicrosPerMillion">Cached input.</param>
/// <param name="OutputMicrosPerMillion">Output, reasoning included.</param>
public readonly record struct ModelPrice(long InputMicrosPerMillion, long CachedInputMicrosPerMillion, long OutputMicrosPerMillion)
{
    private const long PicosPerNano = 1000;

    /// <summary>
    /// The cost of <paramref name="usage"/> in nano-dollars: exact in pico-dollars, rounded up once.
    /// Cached input tokens are part of <see cref="TokenUsage.InputTokens"/> and priced at the cached rate.
    /// </summary>
    public long CostNanos(in TokenUsage usage)
    {
        long cached = Math.Min(usage.CachedInputTokens, usage.InputTokens);
        long uncached = usage.InputTokens - cached;
        Int128 picos = (Int128)uncached * InputMicrosPerMillion
            + (Int128)cached * CachedInputMicrosPerMillion
            + (Int128)usage.OutputTokens * OutputMicrosPerMillion;
        Int128 nanos = (picos + PicosPerNano - 1) / PicosPerNano;
        return nanos > long.MaxValue ? long.MaxValue : (long)nanos;
    }
}
