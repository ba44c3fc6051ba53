namespace Tollgate.Configuration;

/// <summary>A named set of rules applied to every key on the plan.</summary>
public sealed class PlanOptions
{
    /// <summary>Public model names (or aliases) the plan may use; <c>*</c> allows every model.</summary>
    public List<string> Models { get; set; } = [];
}
