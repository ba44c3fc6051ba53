using System.Globalization;
using Tollgate.Limits;
using Tollgate.Proxy;

namespace Tollgate.Protocols.Anthropic;

/// <summary>
/// Anthropic's <c>anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}</c> for the
/// caller's own tightest limits (never the gateway-wide ones), resets as RFC 3339 instants, plus the remaining budget
/// and when it resets (<c>x-tollgate-budget-*</c>). Admitted responses and 429s carry the same set.
/// </summary>
internal static class AnthropicRateLimitHeaders
{
    public static void Write(IHeaderDictionary headers, IReadOnlyList<LimitStatus> statuses, LimitCheck? refusedBy)
    {
        Write(headers, RateLimitHeaders.Pick(statuses, Metric.Requests, refusedBy), "requests");
        Write(headers, RateLimitHeaders.Pick(statuses, Metric.Tokens, refusedBy), "tokens");
        Write(headers, RateLimitHeaders.Pick(statuses, Metric.InputTokens, refusedBy), "input-tokens");
        Write(headers, RateLimitHeaders.Pick(statuses, Metric.OutputTokens, refusedBy), "output-tokens");
        RateLimitHeaders.WriteBudget(headers, statuses, refusedBy);
    }

    private static void Write(IHeaderDictionary headers, LimitStatus? status, string metric)
    {
        if (status is { } known)
        {
            headers["anthropic-ratelimit-" + metric + "-limit"] = known.Check.Limit.ToString(CultureInfo.InvariantCulture);
            headers["anthropic-ratelimit-" + metric + "-remaining"] = Math.Max(0, known.Remaining).ToString(CultureInfo.InvariantCulture);
            headers["anthropic-ratelimit-" + metric + "-reset"] = LimitText.Instant(known.ResetsAt);
        }
    }
}
