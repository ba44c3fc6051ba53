using System.Text.Json;

namespace Tollgate.Simulator;

internal sealed partial class SimulatorToolRequest
{
    /// <summary>
    /// Reads the tool and format fields of a Responses API request: function tools (<c>{"type":"function","name",
    /// "parameters"}</c>), <c>tool_choice</c> (<c>{"type":"function","name"}</c>), <c>text.format</c> (<c>json_object</c>
    /// or <c>json_schema</c> with its <c>schema</c>). A turn of the script is a run of assistant messages and function
    /// calls in <paramref name="input"/>.
    /// </summary>
    public static bool TryReadResponses(JsonElement root, JsonElement input, out SimulatorToolRequest request, out SimulatorError? error)
    {
        request = None;
        error = null;
        var tools = new List<SimulatorTool>();
        if (root.TryGetProperty("tools", out var offered) && offered.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in offered.EnumerateArray())
            {
                if (tool.ValueKind == JsonValueKind.Object
                    && tool.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("function")
                    && tool.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    tools.Add(new SimulatorTool(name.GetString()!, tool.TryGetProperty("parameters", out var schema) ? schema.Clone() : default));
                }
            }
        }

        var mode = tools.Count == 0 ? SimulatorToolMode.None : SimulatorToolMode.Auto;
        string? named = null;
        if (tools.Count > 0 && root.TryGetProperty("tool_choice", out var choice))
        {
            if (choice.ValueKind == JsonValueKind.String)
            {
                mode = choice.GetString() switch
                {
                    "none" => SimulatorToolMode.None,
                    "required" => SimulatorToolMode.Required,
                    _ => SimulatorToolMode.Auto,
                };
            }
            else if (choice.ValueKind == JsonValueKind.Object
                && choice.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                named = name.GetString()!;
                mode = SimulatorToolMode.Named;
                if (tools.All(t => t.Name != named))
                {
                    error = SimulatorError.BadRequest($"Invalid value for 'tool_choice': no function named '{named}' was offered in 'tools'.", "tool_choice");
                    return false;
                }
            }
        }

        bool jsonOutput = false;
        JsonElement? outputSchema = null;
        if (root.TryGetProperty("text", out var textOptions) && textOptions.ValueKind == JsonValueKind.Object
            && textOptions.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object
            && format.TryGetProperty("type", out var formatType) && formatType.ValueKind == JsonValueKind.String)
        {
            if (formatType.ValueEquals("json_object"))
            {
                jsonOutput = true;
            }
            else if (formatType.ValueEquals("json_schema"))
            {
                jsonOutput = true;
                if (format.TryGetProperty("schema", out var schema))
                {
                    outputSchema = schema.Clone();
                }
            }
        }

        request = new SimulatorToolRequest
        {
            Tools = tools,
            Mode = mode,
            NamedTool = named,
            JsonOutput = jsonOutput,
            OutputSchema = outputSchema,
            LastUserText = input.ValueKind == JsonValueKind.String ? input.GetString() : LastUserTextOf(input),
            ScriptTurn = input.ValueKind == JsonValueKind.Array ? ResponsesScriptTurnOf(input) : 0,
        };
        return true;
    }

    // Assistant turns since the last item that carries a script: a run of assistant messages and function calls is one.
    private static int ResponsesScriptTurnOf(JsonElement input)
    {
        int turns = 0;
        bool inTurn = false;
        foreach (var item in input.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            bool assistant = (item.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.ValueEquals("assistant"))
                || (item.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("function_call"));
            if (assistant)
            {
                if (!inTurn)
                {
                    turns++;
                }

                inTurn = true;
                continue;
            }

            inTurn = false;
            if (item.TryGetProperty("content", out var content) && SimulatorDirectives.HasScript(TextOf(content)))
            {
                turns = 0;
            }
        }

        return turns;
    }
}
