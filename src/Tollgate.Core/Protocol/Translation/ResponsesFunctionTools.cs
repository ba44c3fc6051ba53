using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// The function tools of a Responses request, flattened: top-level <c>function</c> tools and the function tools of
/// each <c>namespace</c> (a named group of the caller's own tools, as Codex CLI sends), in order. Chat completions has
/// no groups, so a grouped tool is offered under its own name, and a call to it comes back with its group's name as
/// the <c>function_call</c> item's <c>namespace</c>.
/// </summary>
internal static class ResponsesFunctionTools
{
    /// <summary>One function tool: its definition, the namespace it belongs to (or null) and its JSON path.</summary>
    public readonly record struct Tool(JsonElement Definition, string? Namespace, string Path);

    /// <summary>Every tool of <paramref name="root"/>'s <c>tools</c>, flattened (tools of other types included, for the check).</summary>
    public static List<Tool> Of(JsonElement root)
    {
        var tools = new List<Tool>();
        if (!root.TryGetProperty("tools", out var offered) || offered.ValueKind != JsonValueKind.Array)
        {
            return tools;
        }

        int index = 0;
        foreach (var tool in offered.EnumerateArray())
        {
            string path = $"tools[{index++}]";
            if (TypeOf(tool) == "namespace" && tool.TryGetProperty("tools", out var members) && members.ValueKind == JsonValueKind.Array)
            {
                string? group = tool.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
                int memberIndex = 0;
                foreach (var member in members.EnumerateArray())
                {
                    tools.Add(new Tool(member, group, $"{path}.tools[{memberIndex++}]"));
                }
            }
            else
            {
                tools.Add(new Tool(tool, null, path));
            }
        }

        return tools;
    }

    /// <summary>The namespace of each grouped function tool, by name (empty when the request groups none).</summary>
    public static Dictionary<string, string> Namespaces(JsonElement root)
    {
        var namespaces = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tool in Of(root))
        {
            if (tool.Namespace is { } group && NameOf(tool.Definition) is { } name)
            {
                namespaces.TryAdd(name, group);
            }
        }

        return namespaces;
    }

    /// <summary>A tool's <c>type</c>, or null.</summary>
    public static string? TypeOf(JsonElement tool) =>
        tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;

    /// <summary>A tool's <c>name</c>, or null.</summary>
    public static string? NameOf(JsonElement tool) =>
        tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
}
