using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// What of a Responses request (already type-checked by its reader) has no equivalent in chat completions: state
/// stored upstream (<c>previous_response_id</c>, <c>conversation</c>, <c>prompt</c>, <c>background</c>), tools other
/// than the caller's function tools, input items and content that chat messages cannot carry, and options chat lacks
/// (<c>truncation: auto</c>, <c>max_tool_calls</c>, <c>include</c> of server-side items). Each is a 400
/// <c>param_not_supported</c> naming the field, before anything is reserved.
/// </summary>
internal static class ResponsesTranslationCheck
{
    // include values that ask for nothing a chat upstream cannot give: reasoning that never comes back (so nothing to
    // encrypt), the input image URLs the caller sent, and the log-probabilities chat returns itself.
    private static readonly HashSet<string> s_includable = new(StringComparer.Ordinal)
    {
        "reasoning.encrypted_content", "message.input_image.image_url", "message.output_text.logprobs",
    };

    /// <summary>The refusal of the first field of <paramref name="root"/> that does not translate, or null.</summary>
    public static GatewayError? Check(JsonElement root)
    {
        foreach (string stored in (ReadOnlySpan<string>)["previous_response_id", "conversation", "prompt"])
        {
            if (IsPresent(root, stored, out _))
            {
                return Refuse(stored, $"'{stored}' refers to state stored upstream, and this model's upstream does not speak the Responses API; send the whole input instead.");
            }
        }

        if (IsPresent(root, "background", out var background) && background.ValueKind == JsonValueKind.True)
        {
            return Refuse("background", "Background responses need an upstream that speaks the Responses API; this model's upstream speaks chat completions.");
        }

        if (IsPresent(root, "truncation", out var truncation) && !(truncation.ValueKind == JsonValueKind.String && truncation.ValueEquals("disabled")))
        {
            return Refuse("truncation", "'truncation' other than 'disabled' has no equivalent in chat completions, which this model's upstream speaks.");
        }

        if (IsPresent(root, "max_tool_calls", out _))
        {
            return Refuse("max_tool_calls", "'max_tool_calls' has no equivalent in chat completions, which this model's upstream speaks.");
        }

        return CheckInclude(root) ?? CheckTools(root) ?? CheckToolChoice(root) ?? CheckFormat(root) ?? CheckInput(root);
    }

    private static GatewayError? CheckInclude(JsonElement root)
    {
        if (!IsPresent(root, "include", out var include))
        {
            return null;
        }

        if (include.ValueKind != JsonValueKind.Array)
        {
            return GatewayError.InvalidRequest("'include' must be an array of strings.", "include");
        }

        int index = 0;
        foreach (var value in include.EnumerateArray())
        {
            string at = $"include[{index++}]";
            if (value.ValueKind != JsonValueKind.String || !s_includable.Contains(value.GetString()!))
            {
                return Refuse(at, $"'{at}' asks for items produced on the upstream's side (hosted tools, stored files), which chat completions, spoken by this model's upstream, does not return.");
            }
        }

        return null;
    }

    private static GatewayError? CheckTools(JsonElement root)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tool in ResponsesFunctionTools.Of(root))
        {
            string? type = ResponsesFunctionTools.TypeOf(tool.Definition);
            if (type != "function")
            {
                return Refuse(tool.Path + ".type",
                    $"Only function tools translate to chat completions, which this model's upstream speaks; '{Display(type ?? "")}' does not.");
            }

            if (ResponsesFunctionTools.NameOf(tool.Definition) is { } name && !names.Add(name))
            {
                // Chat completions has no namespaces: two tools of one name could not be told apart.
                return Refuse(tool.Path + ".name", $"Two function tools are named '{Display(name)}'; chat completions, which this model's upstream speaks, has no namespaces to tell them apart.");
            }
        }

        return null;
    }

    private static GatewayError? CheckToolChoice(JsonElement root)
    {
        if (!IsPresent(root, "tool_choice", out var choice) || choice.ValueKind == JsonValueKind.String)
        {
            return null;
        }

        return choice.ValueKind == JsonValueKind.Object && ResponsesFunctionTools.TypeOf(choice) == "function" && ResponsesFunctionTools.NameOf(choice) is not null
            ? null
            : Refuse("tool_choice", "Only 'none', 'auto', 'required' and a named function translate to chat completions, which this model's upstream speaks.");
    }

    private static GatewayError? CheckFormat(JsonElement root)
    {
        if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.Object
            || !text.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return ResponsesFunctionTools.TypeOf(format) is "text" or "json_object" or "json_schema"
            ? null
            : Refuse("text.format.type", "Only the 'text', 'json_object' and 'json_schema' formats translate to chat completions, which this model's upstream speaks.");
    }

    private static GatewayError? CheckInput(JsonElement root)
    {
        if (!root.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        int index = 0;
        foreach (var item in input.EnumerateArray())
        {
            string at = $"input[{index++}]";
            var error = ResponsesFunctionTools.TypeOf(item) switch
            {
                null or "message" => CheckMessage(item, at),
                "function_call" or "reasoning" => null,
                "function_call_output" => CheckOutput(item, at),
                { } other => Refuse(at + ".type", $"Input items of type '{Display(other)}' have no equivalent in chat completions, which this model's upstream speaks."),
            };
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static GatewayError? CheckMessage(JsonElement item, string at)
    {
        string role = item.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
        if (role is not ("user" or "assistant" or "system" or "developer"))
        {
            return Refuse(at + ".role", $"The role '{Display(role)}' has no equivalent in chat completions, which this model's upstream speaks.");
        }

        if (!item.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        int index = 0;
        foreach (var part in content.EnumerateArray())
        {
            string partAt = $"{at}.content[{index++}]";
            string? type = ResponsesFunctionTools.TypeOf(part);
            bool fits = type switch
            {
                "input_text" or "output_text" => true,
                "refusal" => role == "assistant",
                // Chat messages carry images only from the user, and only by URL (a data URL included).
                "input_image" => role == "user" && part.TryGetProperty("image_url", out var url) && url.ValueKind == JsonValueKind.String,
                _ => false,
            };
            if (!fits)
            {
                return Refuse(partAt, type == "input_image"
                    ? $"'{partAt}': chat completions, which this model's upstream speaks, takes images only in user messages and by 'image_url' (not 'file_id')."
                    : $"'{partAt}': content of type '{Display(type ?? "")}' in a {Display(role)} message has no equivalent in chat completions, which this model's upstream speaks.");
            }
        }

        return null;
    }

    private static GatewayError? CheckOutput(JsonElement item, string at)
    {
        if (!item.TryGetProperty("output", out var output) || output.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var part in output.EnumerateArray())
        {
            if (ResponsesFunctionTools.TypeOf(part) is not ("input_text" or "output_text"))
            {
                return Refuse(at + ".output", $"'{at}.output': a tool result in chat completions, which this model's upstream speaks, is text only.");
            }
        }

        return null;
    }

    private static bool IsPresent(JsonElement root, string name, out JsonElement value) =>
        root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string Display(string value) => value.Length <= 64 ? value : value[..64] + "…";

    private static GatewayError Refuse(string param, string message) =>
        GatewayError.InvalidRequest(message, param, ErrorCodes.ParamNotSupported);
}
