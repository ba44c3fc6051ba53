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

    /// <summary>
    /// Whether a Responses API request may continue a stored conversation (<c>conversation</c>). Its hidden input is
    /// reserved at the model's context window; refused with 400 <c>param_not_allowed</c> when false (the default).
    /// </summary>
    public bool AllowConversations { get; set; }

    /// <summary>
    /// Whether a Responses API request may use a stored prompt template (<c>prompt</c>). Its hidden input is reserved
    /// at the model's context window, and its tool calls at the model's highest per-call fee; refused with 400
    /// <c>param_not_allowed</c> when false (the default).
    /// </summary>
    public bool AllowStoredPrompts { get; set; }

    /// <summary>
    /// Hosted tool types (Responses API <c>tools[].type</c>, e.g. <c>web_search</c>, <c>file_search</c>,
    /// <c>code_interpreter</c>, <c>image_generation</c>) a request may offer, provided the model prices them
    /// (<see cref="PriceOptions.ToolCalls"/>). Empty (the default): only the caller's own tools.
    /// </summary>
    public List<string> HostedTools { get; set; } = [];

    /// <summary>
    /// The most hosted tool calls one request may make: the worst case reserved at each call's fee. A request that
    /// sets no <c>max_tool_calls</c> is sent upstream with this value; one asking for more is refused.
    /// </summary>
    public int MaxToolCalls { get; set; } = 10;

    /// <summary>A copy, to apply a key's overrides to.</summary>
    public PlanOptions Clone()
    {
        var copy = (PlanOptions)MemberwiseClone();
        copy.Shadow = [.. Shadow];
        copy.Models = [.. Models];
        copy.TaskHeaders = [.. TaskHeaders];
        copy.HostedTools = [.. HostedTools];
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
