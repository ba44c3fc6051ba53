using Tollgate.Pricing;

namespace Tollgate.Protocol;

/// <summary>
/// Anthropic's <c>usage</c> object as read, each count null when absent: <c>input_tokens</c> (uncached input only),
/// <c>output_tokens</c> (thinking included), <c>cache_creation_input_tokens</c> with its
/// <c>cache_creation.ephemeral_5m_input_tokens</c> / <c>ephemeral_1h_input_tokens</c> parts, and
/// <c>cache_read_input_tokens</c>. A stream carries it in two halves — <c>message_start</c> the input, and
/// <c>message_delta</c> the cumulative output (and, from newer servers, the input again) — joined with <see cref="Then"/>.
/// </summary>
public readonly record struct AnthropicUsage
{
    /// <summary><c>input_tokens</c>: input neither read from nor written to the cache.</summary>
    public long? Input { get; init; }

    /// <summary><c>output_tokens</c>.</summary>
    public long? Output { get; init; }

    /// <summary><c>cache_creation_input_tokens</c>.</summary>
    public long? CacheCreation { get; init; }

    /// <summary><c>cache_read_input_tokens</c>.</summary>
    public long? CacheRead { get; init; }

    /// <summary><c>cache_creation.ephemeral_5m_input_tokens</c>.</summary>
    public long? CacheWrite5m { get; init; }

    /// <summary><c>cache_creation.ephemeral_1h_input_tokens</c>.</summary>
    public long? CacheWrite1h { get; init; }

    /// <summary>Whether a count was not a non-negative integer, or the parts of the cache writes exceed their total.</summary>
    public bool Malformed { get; init; }

    /// <summary>This usage updated by a later report: each count <paramref name="later"/> carries replaces this one's.</summary>
    public AnthropicUsage Then(in AnthropicUsage later) => new()
    {
        Input = later.Input ?? Input,
        Output = later.Output ?? Output,
        CacheCreation = later.CacheCreation ?? CacheCreation,
        CacheRead = later.CacheRead ?? CacheRead,
        CacheWrite5m = later.CacheWrite5m ?? CacheWrite5m,
        CacheWrite1h = later.CacheWrite1h ?? CacheWrite1h,
        Malformed = Malformed || later.Malformed,
    };

    /// <summary>
    /// As Tollgate bills it: all input (uncached, cache reads and cache writes) in <see cref="TokenUsage.InputTokens"/>,
    /// cache reads as cached input, cache writes split by lifetime (writes not split are five-minute ones).
    /// </summary>
    public TokenUsage ToTokenUsage(out bool malformed)
    {
        long read = CacheRead ?? 0;
        long parts = Saturating.Add(CacheWrite5m ?? 0, CacheWrite1h ?? 0);
        long writes = CacheCreation ?? parts;
        malformed = Malformed || parts > writes;
        long hour = Math.Min(CacheWrite1h ?? 0, writes);
        long input = Saturating.Add(Saturating.Add(Input ?? 0, writes), read);
        return new TokenUsage(input, read, Output ?? 0, 0)
        {
            CacheWrite5mTokens = writes - hour,
            CacheWrite1hTokens = hour,
        };
    }
}
