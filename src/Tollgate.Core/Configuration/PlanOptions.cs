namespace Tollgate.Configuration;

/// <summary>A named set of rules applied to every key on the plan (and to each user's keys together).</summary>
public sealed class PlanOptions : LimitsOptions
{
    /// <summary>Public model names (or aliases) the plan may use; <c>*</c> allows every model.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>Most input tokens in one request.</summary>
    public int? MaxInputTokens { get; set; }

    /// <summary>Most output tokens one request may ask for (per choice).</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>The output cap injected when a request sets none (else the model's own maximum).</summary>
    public int? DefaultMaxOutputTokens { get; set; }

    /// <summary><c>refuse</c> (400 <c>max_tokens_too_large</c>) or <c>clamp</c> a request asking for more than <see cref="MaxOutputTokens"/>.</summary>
    public string OutputCapPolicy { get; set; } = OutputCapPolicies.Refuse;

    /// <summary>Lower the output cap to what the remaining budgets and token allowances can pay for, instead of refusing.</summary>
    public bool ClampOutputToRemaining { get; set; }

    /// <summary>Most choices (<c>n</c>, and <c>best_of</c> for legacy completions).</summary>
    public int MaxN { get; set; } = 8;

    /// <summary>Percent of a budget at which a warning is raised (audit, metric, response header), once per window; 0 disables.</summary>
    public int BudgetWarningPercent { get; set; } = 80;

    /// <summary>Spend per agent task (<c>x-tollgate-task</c>) per calendar day, in US dollars.</summary>
    public decimal? TaskBudgetPerDay { get; set; }

    /// <summary>Most distinct task ids one key may use per day.</summary>
    public int MaxTasksPerKey { get; set; } = 100;

    /// <summary>
    /// Request headers that name an agent session (e.g. <c>x-claude-code-session-id</c>, <c>session_id</c>), tried in
    /// order when a request carries no <c>x-tollgate-task</c>: the first one present is the request's task id.
    /// </summary>
    public List<string> TaskHeaders { get; set; } = [];

    /// <summary>
    /// Whether retrieving, cancelling or deleting a stored response (Responses API) counts against the plan's request
    /// limits. Never billed tokens or money either way.
    /// </summary>
    public bool CountStoredResponseCalls { get; set; }

    /// <summary>Whether <c>logprobs</c> and <c>top_logprobs</c> are allowed (they ease model extraction).</summary>
    public bool AllowLogprobs { get; set; } = true;

    /// <summary>Whether <c>logit_bias</c> is allowed.</summary>
    public bool AllowLogitBias { get; set; } = true;

    /// <summary>Whether repetitive or amplifying input is refused (400 <c>repetitive_input</c>).</summary>
    public bool RejectRepetitiveInput { get; set; } = true;

    /// <summary>Whether answers are served from and stored in the response cache (for models that allow it too).</summary>
    public bool CacheResponses { get; set; }

    /// <summary>Who shares stored answers: <c>tenant</c> (default), <c>user</c> or <c>shared</c> (<see cref="CacheNamespaces"/>).</summary>
    public string CacheNamespace { get; set; } = CacheNamespaces.Tenant;

    /// <summary>Percent of an answer's price that a cache hit costs (0–100, default 0: free). A hit never counts tokens.</summary>
    public int CacheHitPricePercent { get; set; }

    /// <summary>A copy, to apply a key's overrides to.</summary>
    public PlanOptions Clone()
    {
        var copy = (PlanOptions)MemberwiseClone();
        copy.Shadow = [.. Shadow];
        copy.Models = [.. Models];
        copy.TaskHeaders = [.. TaskHeaders];
        return copy;
    }
}

/// <summary>Values of <see cref="PlanOptions.OutputCapPolicy"/>.</summary>
public static class OutputCapPolicies
{
    /// <summary>Refuse with 400 <c>max_tokens_too_large</c>.</summary>
    public const string Refuse = "refuse";

    /// <summary>Lower the cap to the plan's maximum.</summary>
    public const string Clamp = "clamp";
}
