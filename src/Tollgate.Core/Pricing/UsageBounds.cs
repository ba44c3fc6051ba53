namespace Tollgate.Pricing;

/// <summary>
/// What a request can physically consume: input up to the model's context window (per embedding input item), output
/// up to the model's maximum output per choice times the choices. Reported usage above these bounds is not an overrun
/// to bill but a broken report; it is billed at the bound, so one absurd figure can never drain or wrap a budget.
/// </summary>
/// <param name="MaxInputTokens">The most input the request can have.</param>
/// <param name="MaxOutputTokens">The most output the request can produce, all choices together.</param>
public readonly record struct UsageBounds(long MaxInputTokens, long MaxOutputTokens)
{
    /// <summary>
    /// <paramref name="reported"/> held within the bounds (cached input and cache writes within the input,
    /// reasoning within the output); <paramref name="clamped"/> tells whether anything was lowered.
    /// </summary>
    public TokenUsage Clamp(in TokenUsage reported, out bool clamped)
    {
        long input = Math.Min(reported.InputTokens, MaxInputTokens);
        long output = Math.Min(reported.OutputTokens, MaxOutputTokens);
        clamped = input != reported.InputTokens || output != reported.OutputTokens;
        long cached = Math.Min(reported.CachedInputTokens, input);
        long write5m = Math.Min(reported.CacheWrite5mTokens, input - cached);
        return new TokenUsage(input, cached, output, Math.Min(reported.ReasoningTokens, output))
        {
            CacheWrite5mTokens = write5m,
            CacheWrite1hTokens = Math.Min(reported.CacheWrite1hTokens, input - cached - write5m),
        };
    }
}
