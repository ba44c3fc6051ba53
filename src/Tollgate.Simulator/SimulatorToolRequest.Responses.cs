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

        if (!TryReadChoice(root, tools, static choice => choice.TryGetProperty("name", out var name) ? name : null, out var mode, out string? named, out error))
        {
            return false;
        }

        var (jsonOutput, outputSchema) = root.TryGetProperty("text", out var textOptions) && textOptions.ValueKind == JsonValueKind.Object
            && textOptions.TryGetProperty("format", out var format)
            ? ReadFormat(format, static f => f.TryGetProperty("schema", out var schema) ? schema : null)
            : (false, null);

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
