using System.Text.Json;

namespace Tollgate.Simulator;

internal sealed partial class SimulatorToolRequest
{
    /// <summary>
    /// Reads the tools of an Anthropic Messages request: client tools (<c>{"name","input_schema"}</c>; server tools, which
    /// have no schema, are not the model's to call here) and <c>tool_choice</c> (<c>auto</c>, <c>any</c>,
    /// <c>{"type":"tool","name"}</c>, <c>none</c>). The last user message counts as the user's own turn unless it carries
    /// tool results; a turn of the script is an assistant message.
    /// </summary>
    public static bool TryReadMessages(JsonElement root, JsonElement messages, out SimulatorToolRequest request, out SimulatorError? error)
    {
        request = None;
        error = null;
        var tools = new List<SimulatorTool>();
        if (root.TryGetProperty("tools", out var offered) && offered.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in offered.EnumerateArray())
            {
                if (tool.ValueKind == JsonValueKind.Object
                    && tool.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                    && tool.TryGetProperty("input_schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
                {
                    tools.Add(new SimulatorTool(name.GetString()!, schema.Clone()));
                }
            }
        }

        var mode = tools.Count == 0 ? SimulatorToolMode.None : SimulatorToolMode.Auto;
        string? named = null;
        if (tools.Count > 0 && root.TryGetProperty("tool_choice", out var choice) && choice.ValueKind == JsonValueKind.Object
            && choice.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
        {
            mode = type.GetString() switch
            {
                "none" => SimulatorToolMode.None,
                "any" => SimulatorToolMode.Required,
                "tool" => SimulatorToolMode.Named,
                _ => SimulatorToolMode.Auto,
            };
            if (mode == SimulatorToolMode.Named)
            {
                named = choice.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
                if (named is null || tools.All(t => t.Name != named))
                {
                    error = SimulatorError.BadRequest($"tool_choice: no tool named '{named}' was offered in 'tools'.", "tool_choice");
                    return false;
                }
            }
        }

        request = new SimulatorToolRequest
        {
            Tools = tools,
            Mode = mode,
            NamedTool = named,
            LastUserText = LastUserTurnOf(messages),
            ScriptTurn = ScriptTurnOf(messages),
        };
        return true;
    }

    // The last message's text when it is the user's own words (not tool results handed back).
    private static string? LastUserTurnOf(JsonElement messages)
    {
        JsonElement last = default;
        foreach (var message in messages.EnumerateArray())
        {
            last = message;
        }

        if (last.ValueKind != JsonValueKind.Object || !last.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
            || !role.ValueEquals("user") || !last.TryGetProperty("content", out var content))
        {
            return null;
        }

        if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in content.EnumerateArray())
            {
                if (block.ValueKind == JsonValueKind.Object && block.TryGetProperty("type", out var type)
                    && type.ValueKind == JsonValueKind.String && type.ValueEquals("tool_result"))
                {
                    return null;
                }
            }
        }

        return TextOf(content);
    }
}
