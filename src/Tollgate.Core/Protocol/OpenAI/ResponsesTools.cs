namespace Tollgate.Protocol;

/// <summary>
/// The Responses API's tool types: the caller's own (<c>function</c>, <c>custom</c>, <c>local_shell</c>, and
/// <c>namespace</c> groups of them), which the provider does not charge per call, and hosted ones (<c>web_search</c>,
/// <c>file_search</c>, <c>code_interpreter</c>, <c>image_generation</c>, <c>mcp</c>, …), whose calls it does; and the
/// output item type a hosted tool's calls come back as (<c>web_search_call</c>, <c>file_search_call</c>, …).
/// </summary>
public static class ResponsesTools
{
    /// <summary>The group of the caller's own tools (Codex CLI's sub-agent tools).</summary>
    public const string Namespace = "namespace";

    // Tools the caller runs itself: no per-call fee on the provider's side.
    private static readonly HashSet<string> s_callerTools = new(StringComparer.Ordinal) { "function", "custom", "local_shell" };

    // Output items of the caller's own tools: never billed a fee.
    private static readonly HashSet<string> s_callerItems = new(StringComparer.Ordinal) { "function_call", "custom_tool_call", "local_shell_call" };

    /// <summary>Whether <paramref name="type"/> is a tool the caller runs itself.</summary>
    public static bool IsCallerTool(string type) => s_callerTools.Contains(type);

    /// <summary>Whether an output item of <paramref name="itemType"/> is a call of a hosted tool (it ends in <c>_call</c> and is not the caller's own).</summary>
    public static bool IsHostedCallItem(string itemType) =>
        itemType.EndsWith("_call", StringComparison.Ordinal) && !s_callerItems.Contains(itemType);

    /// <summary>
    /// The output item type of a call of hosted tool <paramref name="toolType"/>: <c>web_search_call</c> for every
    /// version of web search (<c>web_search</c>, <c>web_search_preview</c>, dated ones), <c>computer_call</c> for
    /// computer use, else the tool type followed by <c>_call</c>.
    /// </summary>
    public static string CallItemType(string toolType)
    {
        ArgumentNullException.ThrowIfNull(toolType);
        return toolType.StartsWith("web_search", StringComparison.Ordinal) ? "web_search_call"
            : toolType.StartsWith("computer_use", StringComparison.Ordinal) ? "computer_call"
            : toolType + "_call";
    }
}
