namespace Tollgate.Limits;

/// <summary>
/// When a refused caller is asked to retry. Client SDKs treat <c>Retry-After</c> very differently: openai-node and
/// the OpenAI .NET SDK sleep for whatever it says (a day, inside one call), LangChain and the Vercel AI SDK give up
/// on anything over 60 s, and most retry a 429 without one a few times within seconds. So a refusal asks for a wait
/// only when capacity returns within <see cref="MaxRetryAfter"/>; any other refusal says not to retry at all
/// (<c>x-should-retry: false</c>) and states when capacity returns instead.
/// </summary>
public static class RefusalRetry
{
    /// <summary>The longest wait a refusal asks for: 60 s, what every common SDK accepts.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The wait to ask for when <paramref name="window"/> refused and capacity returns after <paramref name="wait"/>
    /// (null: never, the request is larger than the limit); null when the caller should not retry soon. A per-minute
    /// limit always asks, for at most 60 s: counted in 1-second slots, an amount can stay up to 61 s, so a retry
    /// after 60 s may learn of the last second.
    /// </summary>
    public static TimeSpan? SuggestedWait(Window window, TimeSpan? wait) => wait switch
    {
        null => null,
        { } w when w <= MaxRetryAfter => w,
        _ when window == Window.Minute => MaxRetryAfter,
        _ => null,
    };
}
