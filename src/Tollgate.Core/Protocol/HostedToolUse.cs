namespace Tollgate.Protocol;

/// <summary>A hosted tool a Responses API request offers (its <c>tools[i].type</c>), and where, to name in a refusal.</summary>
/// <param name="Type">The tool type, e.g. <c>web_search</c>.</param>
/// <param name="Param">The field that offers it, e.g. <c>tools[0].type</c>.</param>
public readonly record struct HostedToolUse(string Type, string Param);
