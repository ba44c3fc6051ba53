namespace Tollgate.Pricing;

/// <summary>The tokens a request consumed, as the provider bills them.</summary>
/// <param name="InputTokens">Prompt tokens, cached ones and cache writes included.</param>
/// <param name="CachedInputTokens">The part of the input served from the provider's prompt cache.</param>
/// <param name="OutputTokens">Completion tokens, reasoning (thinking) included.</param>
/// <param name="ReasoningTokens">The part of the output spent on hidden reasoning.</param>
public readonly record struct TokenUsage(long InputTokens, long CachedInputTokens, long OutputTokens, long ReasoningTokens)
{
    /// <summary>The part of the input written to the provider's prompt cache for five minutes (Anthropic's <c>ephemeral_5m_input_tokens</c>).</summary>
    public long CacheWrite5mTokens { get; init; }

    /// <summary>The part of the input written to the provider's prompt cache for an hour (Anthropic's <c>ephemeral_1h_input_tokens</c>).</summary>
    public long CacheWrite1hTokens { get; init; }

    /// <summary>Hosted tool calls billed (Responses API: web search, file search, …), each at its fee beside the tokens.</summary>
    public long ToolCalls { get; init; }

    /// <summary>Input plus output (saturating).</summary>
    public long TotalTokens => Saturating.Add(InputTokens, OutputTokens);

    /// <summary>This usage and <paramref name="other"/> together, field by field (saturating): the usage of several attempts of one request.</summary>
    public TokenUsage Plus(in TokenUsage other) => new(
        Saturating.Add(InputTokens, other.InputTokens),
        Saturating.Add(CachedInputTokens, other.CachedInputTokens),
        Saturating.Add(OutputTokens, other.OutputTokens),
        Saturating.Add(ReasoningTokens, other.ReasoningTokens))
    {
        CacheWrite5mTokens = Saturating.Add(CacheWrite5mTokens, other.CacheWrite5mTokens),
        CacheWrite1hTokens = Saturating.Add(CacheWrite1hTokens, other.CacheWrite1hTokens),
        ToolCalls = Saturating.Add(ToolCalls, other.ToolCalls),
    };
}
