using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>A function tool a chat request offers: its name and its parameters' JSON schema.</summary>
internal sealed record SimulatorTool(string Name, JsonElement Parameters);

/// <summary>How a request lets the model use its tools (<c>tool_choice</c>).</summary>
internal enum SimulatorToolMode
{
    /// <summary>No tool is called (<c>"none"</c>, or no tools offered).</summary>
    None,

    /// <summary>The model decides (<c>"auto"</c>, the default with tools).</summary>
    Auto,

    /// <summary>A tool must be called (<c>"required"</c>).</summary>
    Required,

    /// <summary>The named tool must be called.</summary>
    Named,
}

/// <summary>
/// What a chat request says about tools and output format, read once: the function tools it offers,
/// <c>tool_choice</c>, <c>response_format</c>, the text of its last message when that is the user's, and how many
/// assistant turns follow the message that carries a script (<c>[[sim:call=…]]</c>, <c>[[sim:say=…]]</c>).
/// </summary>
internal sealed partial class SimulatorToolRequest
{
    /// <summary>Nothing offered, nothing asked.</summary>
    public static SimulatorToolRequest None { get; } = new();

    /// <summary>The function tools offered.</summary>
    public IReadOnlyList<SimulatorTool> Tools { get; init; } = [];

    /// <summary><c>tool_choice</c>.</summary>
    public SimulatorToolMode Mode { get; init; }

    /// <summary>The tool <c>tool_choice</c> names, for <see cref="SimulatorToolMode.Named"/>.</summary>
    public string? NamedTool { get; init; }

    /// <summary>Whether <c>response_format</c> asks for a JSON object (<c>json_object</c> or <c>json_schema</c>).</summary>
    public bool JsonOutput { get; init; }

    /// <summary>The schema of <c>response_format: json_schema</c>, when given.</summary>
    public JsonElement? OutputSchema { get; init; }

    /// <summary>The last message's text when the last message is the user's (not a tool result); else null.</summary>
    public string? LastUserText { get; init; }

    /// <summary>Assistant messages after the last message that carries a script directive (the script's next step).</summary>
    public int ScriptTurn { get; init; }

    /// <summary>The offered tool named <paramref name="name"/>, or null.</summary>
    public SimulatorTool? Find(string name)
    {
        foreach (var tool in Tools)
        {
            if (string.Equals(tool.Name, name, StringComparison.Ordinal))
            {
                return tool;
            }
        }

        return null;
    }

    /// <summary>Reads the tool and format fields of a chat request; false with a 400 when one is malformed.</summary>
    public static bool TryRead(JsonElement root, JsonElement messages, out SimulatorToolRequest request, out SimulatorError? error)
    {
        request = None;
        error = null;
        var tools = new List<SimulatorTool>();
        if (root.TryGetProperty("tools", out var offered) && offered.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in offered.EnumerateArray())
            {
                if (tool.ValueKind != JsonValueKind.Object
                    || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                    || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    // Tools of other kinds (hosted tools) are not functions the simulator can call.
                    continue;
                }

                var parameters = function.TryGetProperty("parameters", out var schema) ? schema.Clone() : default;
                tools.Add(new SimulatorTool(name.GetString()!, parameters));
            }
        }

        if (!TryReadChoice(root, tools, static choice => choice.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
                && function.TryGetProperty("name", out var name) ? name : null, out var mode, out string? named, out error))
        {
            return false;
        }

        var (jsonOutput, outputSchema) = root.TryGetProperty("response_format", out var format)
            ? ReadFormat(format, static f => f.TryGetProperty("json_schema", out var described) && described.ValueKind == JsonValueKind.Object
                && described.TryGetProperty("schema", out var schema) ? schema : null)
            : (false, null);

        request = new SimulatorToolRequest
        {
            Tools = tools,
            Mode = mode,
            NamedTool = named,
            JsonOutput = jsonOutput,
            OutputSchema = outputSchema,
            LastUserText = LastUserTextOf(messages),
            ScriptTurn = ScriptTurnOf(messages),
        };
        return true;
    }

    private static string? LastUserTextOf(JsonElement messages)
    {
        JsonElement last = default;
        foreach (var message in messages.EnumerateArray())
        {
            last = message;
        }

        return last.ValueKind == JsonValueKind.Object && last.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String
            && role.ValueEquals("user") && last.TryGetProperty("content", out var content)
            ? TextOf(content)
            : null;
    }

    private static int ScriptTurnOf(JsonElement messages)
    {
        int turns = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            bool assistant = message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.ValueEquals("assistant");
            if (assistant)
            {
                turns++;
            }
            else if (message.TryGetProperty("content", out var content) && SimulatorDirectives.HasScript(TextOf(content)))
            {
                turns = 0;
            }
        }

        return turns;
    }

    private static string TextOf(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        var text = new System.Text.StringBuilder();
        if (content.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in content.EnumerateArray())
            {
                if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
                {
                    text.Append(value.GetString()).Append('\n');
                }
            }
        }

        return text.ToString();
    }

    // tool_choice: "none", "required", "auto" (the default with tools), or an object naming one of the tools, where
    // nameOf finds the name (chat: function.name; Responses: name).
    private static bool TryReadChoice(JsonElement root, List<SimulatorTool> tools, Func<JsonElement, JsonElement?> nameOf,
        out SimulatorToolMode mode, out string? named, out SimulatorError? error)
    {
        mode = tools.Count == 0 ? SimulatorToolMode.None : SimulatorToolMode.Auto;
        named = null;
        error = null;
        if (tools.Count == 0 || !root.TryGetProperty("tool_choice", out var choice))
        {
            return true;
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            mode = choice.GetString() switch
            {
                "none" => SimulatorToolMode.None,
                "required" => SimulatorToolMode.Required,
                _ => SimulatorToolMode.Auto,
            };
        }
        else if (choice.ValueKind == JsonValueKind.Object && nameOf(choice) is { ValueKind: JsonValueKind.String } name)
        {
            string wanted = name.GetString()!;
            named = wanted;
            mode = SimulatorToolMode.Named;
            if (tools.All(t => t.Name != wanted))
            {
                error = SimulatorError.BadRequest($"Invalid value for 'tool_choice': no function named '{wanted}' was offered in 'tools'.", "tool_choice");
                return false;
            }
        }

        return true;
    }

    // A JSON output format: json_object, or json_schema with the schema schemaOf finds.
    private static (bool Json, JsonElement? Schema) ReadFormat(JsonElement format, Func<JsonElement, JsonElement?> schemaOf)
    {
        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return (false, null);
        }

        return type.ValueEquals("json_object") ? (true, null)
            : type.ValueEquals("json_schema") ? (true, schemaOf(format)?.Clone())
            : (false, null);
    }
}
