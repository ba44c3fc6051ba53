namespace Tollgate.Configuration;

/// <summary>
/// Limits that can apply to a scope (a plan's keys and users, a tenant, a source address, the whole gateway).
/// Every limit is optional: unset means unlimited. Rates slide over the last minute, hour or 24 hours; budgets
/// reset on the calendar day and month in the scope's time zone.
/// </summary>
public class LimitsOptions
{
    /// <summary>Requests per sliding minute.</summary>
    public long? RequestsPerMinute { get; set; }

    /// <summary>Requests per sliding hour.</summary>
    public long? RequestsPerHour { get; set; }

    /// <summary>Requests per sliding 24 hours.</summary>
    public long? RequestsPerDay { get; set; }

    /// <summary>Input plus output tokens per sliding minute.</summary>
    public long? TokensPerMinute { get; set; }

    /// <summary>Input plus output tokens per sliding hour.</summary>
    public long? TokensPerHour { get; set; }

    /// <summary>Input plus output tokens per sliding 24 hours.</summary>
    public long? TokensPerDay { get; set; }

    /// <summary>Input tokens per sliding minute.</summary>
    public long? InputTokensPerMinute { get; set; }

    /// <summary>Input tokens per sliding 24 hours.</summary>
    public long? InputTokensPerDay { get; set; }

    /// <summary>Output tokens per sliding minute.</summary>
    public long? OutputTokensPerMinute { get; set; }

    /// <summary>Output tokens per sliding 24 hours.</summary>
    public long? OutputTokensPerDay { get; set; }

    /// <summary>Requests in flight at once.</summary>
    public int? MaxConcurrentRequests { get; set; }

    /// <summary>Spend per calendar day, in US dollars (at most 9 decimal places).</summary>
    public decimal? BudgetPerDay { get; set; }

    /// <summary>Spend per calendar month, in US dollars.</summary>
    public decimal? BudgetPerMonth { get; set; }

    /// <summary>Names of limits above that run in shadow mode: evaluated, counted, audited and measured as "would refuse", never enforced.</summary>
    public List<string> Shadow { get; set; } = [];

    /// <summary>The names of the limit properties (for validation of <see cref="Shadow"/> and key overrides).</summary>
    public static readonly IReadOnlyList<string> LimitNames =
    [
        nameof(RequestsPerMinute), nameof(RequestsPerHour), nameof(RequestsPerDay),
        nameof(TokensPerMinute), nameof(TokensPerHour), nameof(TokensPerDay),
        nameof(InputTokensPerMinute), nameof(InputTokensPerDay), nameof(OutputTokensPerMinute), nameof(OutputTokensPerDay),
        nameof(MaxConcurrentRequests), nameof(BudgetPerDay), nameof(BudgetPerMonth),
    ];
}
