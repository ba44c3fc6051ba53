using System.Globalization;
using Tollgate.Limits;
using Tollgate.Pricing;

namespace Tollgate.Proxy;

/// <summary>
/// OpenAI's <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c> for the caller's own tightest limits
/// (never the gateway-wide ones), the remaining budget and when it resets, any budget warning, and on refusals the
/// retry headers. Admitted responses and 429s carry the same set.
/// </summary>
internal static class RateLimitHeaders
{
    public const string BudgetRemaining = "x-tollgate-budget-remaining-usd";
    public const string BudgetReset = "x-tollgate-budget-reset";
    public const string BudgetWarning = "x-tollgate-budget-warning";

    /// <summary>
    /// The caller's limits; for the metric of <paramref name="refusedBy"/> (the limit that refused), that limit rather
    /// than the tightest by what remains.
    /// </summary>
    public static void Write(IHeaderDictionary headers, IReadOnlyList<LimitStatus> statuses, LimitCheck? refusedBy)
    {
        Write(headers, Pick(statuses, Metric.Requests, refusedBy), "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests");
        Write(headers, Pick(statuses, Metric.Tokens, refusedBy), "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens");
        WriteBudget(headers, statuses, refusedBy);
    }

    /// <summary>The remaining budget and when it resets (the one that refused, else the tightest).</summary>
    public static void WriteBudget(IHeaderDictionary headers, IReadOnlyList<LimitStatus> statuses, LimitCheck? refusedBy)
    {
        if (Pick(statuses, Metric.Spend, refusedBy) is { } budget)
        {
            headers[BudgetRemaining] = Money.FormatDollars(budget.Remaining);
            headers[BudgetReset] = LimitText.Instant(budget.ResetsAt);
        }
    }

    /// <summary>
    /// <c>Retry-After</c> (whole seconds, rounded up) and <c>retry-after-ms</c> when a wait is given, and
    /// <c>x-should-retry</c> when set. A wait over <see cref="RefusalRetry.MaxRetryAfter"/> is never sent: SDKs
    /// would sleep through it or give up, so the caller is told not to retry instead.
    /// </summary>
    public static void WriteRetry(IHeaderDictionary headers, TimeSpan? retryAfter, bool? shouldRetry)
    {
        if (retryAfter is { } wait && wait <= RefusalRetry.MaxRetryAfter)
        {
            long ms = Math.Max(0, (long)Math.Ceiling(wait.TotalMilliseconds));
            headers.RetryAfter = ((ms + 999) / 1000).ToString(CultureInfo.InvariantCulture);
            headers["retry-after-ms"] = ms.ToString(CultureInfo.InvariantCulture);
        }
        else if (retryAfter is not null)
        {
            shouldRetry = false;
        }

        if (shouldRetry is { } retry)
        {
            headers["x-should-retry"] = retry ? "true" : "false";
        }
    }

    private static void Write(IHeaderDictionary headers, LimitStatus? status, string limit, string remaining, string reset)
    {
        if (status is { } known)
        {
            headers[limit] = known.Check.Limit.ToString(CultureInfo.InvariantCulture);
            headers[remaining] = known.Remaining.ToString(CultureInfo.InvariantCulture);
            headers[reset] = LimitText.Duration(known.ResetsIn);
        }
    }

    internal static LimitStatus? Pick(IReadOnlyList<LimitStatus> statuses, Metric metric, LimitCheck? refusedBy)
    {
        LimitStatus? tightest = null;
        foreach (var status in statuses)
        {
            if (status.Check.Metric != metric)
            {
                continue;
            }

            if (ReferenceEquals(status.Check, refusedBy))
            {
                return status;
            }

            if (tightest is not { } current || status.Remaining < current.Remaining)
            {
                tightest = status;
            }
        }

        return tightest;
    }
}
