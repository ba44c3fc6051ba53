using System.Globalization;
using System.Text;
using Tollgate.Limits;
using Tollgate.Pricing;

namespace Tollgate.Proxy;

/// <summary>
/// OpenAI's <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c> for the caller's own tightest limits
/// (never the gateway-wide ones), the remaining budget, and any budget warning.
/// </summary>
internal static class RateLimitHeaders
{
    public const string BudgetRemaining = "x-tollgate-budget-remaining-usd";
    public const string BudgetWarning = "x-tollgate-budget-warning";

    public static void Write(IHeaderDictionary headers, Admission admission)
    {
        Write(headers, admission.Statuses, Metric.Requests, "requests");
        Write(headers, admission.Statuses, Metric.Tokens, "tokens");
        LimitStatus? budget = Tightest(admission.Statuses, Metric.Spend);
        if (budget is not null)
        {
            headers[BudgetRemaining] = Money.FormatDollars(budget.Remaining);
        }

        if (admission.Warning is not null)
        {
            headers[BudgetWarning] = admission.Warning;
        }
    }

    /// <summary><c>Retry-After</c> (whole seconds, rounded up), <c>retry-after-ms</c> and <c>x-should-retry</c>.</summary>
    public static void WriteRetry(IHeaderDictionary headers, TimeSpan? retryAfter, bool? shouldRetry)
    {
        if (retryAfter is { } wait)
        {
            long ms = Math.Max(0, (long)Math.Ceiling(wait.TotalMilliseconds));
            headers.RetryAfter = ((ms + 999) / 1000).ToString(CultureInfo.InvariantCulture);
            headers["retry-after-ms"] = ms.ToString(CultureInfo.InvariantCulture);
        }

        if (shouldRetry is { } retry)
        {
            headers["x-should-retry"] = retry ? "true" : "false";
        }
    }

    /// <summary>A Go-style duration as OpenAI sends it: <c>120ms</c>, <c>14s</c>, <c>6m0s</c>, <c>2h3m4s</c>.</summary>
    public static string Duration(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return ((long)Math.Ceiling(Math.Max(0, value.TotalMilliseconds))).ToString(CultureInfo.InvariantCulture) + "ms";
        }

        long seconds = (long)Math.Ceiling(value.TotalSeconds);
        var text = new StringBuilder();
        if (seconds >= 3600)
        {
            text.Append(CultureInfo.InvariantCulture, $"{seconds / 3600}h");
        }

        if (seconds >= 60)
        {
            text.Append(CultureInfo.InvariantCulture, $"{seconds / 60 % 60}m");
        }

        text.Append(CultureInfo.InvariantCulture, $"{seconds % 60}s");
        return text.ToString();
    }

    private static void Write(IHeaderDictionary headers, IReadOnlyList<LimitStatus> statuses, Metric metric, string suffix)
    {
        if (Tightest(statuses, metric) is { } status)
        {
            headers["x-ratelimit-limit-" + suffix] = status.Check.Limit.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-remaining-" + suffix] = status.Remaining.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-reset-" + suffix] = Duration(status.ResetsIn);
        }
    }

    private static LimitStatus? Tightest(IReadOnlyList<LimitStatus> statuses, Metric metric)
    {
        LimitStatus? tightest = null;
        foreach (var status in statuses)
        {
            if (status.Check.Metric == metric && (tightest is null || status.Remaining < tightest.Remaining))
            {
                tightest = status;
            }
        }

        return tightest;
    }
}
