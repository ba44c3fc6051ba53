using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// Type-checks a Responses API request (<c>POST /v1/responses</c>) already parsed as strict JSON: the fields policy
/// depends on, the input items it counts, and the features whose cost Tollgate cannot see. Stored state it does not
/// hold (<c>item_reference</c> items) is refused with 400 <c>param_not_allowed</c>; a <c>conversation</c>, a stored
/// <c>prompt</c> template and hosted tools with per-call fees are recorded on the request, for admission to allow or
/// refuse by the caller's plan and the model's prices (<see cref="Limits.HostedFeatures"/>). A <c>background</c>
/// response is polled, not streamed, and stored upstream: with <c>stream</c> or <c>store: false</c> it is refused.
/// </summary>
internal static class ResponsesRequestParser
{
    /// <summary>The output cap field of the Responses API.</summary>
    public const string CapField = "max_output_tokens";

    /// <summary>Validates <paramref name="document"/>; owns it (disposes it on failure).</summary>
    public static bool TryRead(ReadOnlyMemory<byte> body, JsonDocument document, out ModelRequest? request, out GatewayError? error)
    {
        request = null;
        var root = document.RootElement;
        var hostedTools = new List<HostedToolUse>();
        error = Validate(root, hostedTools, out string model, out bool stream, out long? maxOutput, out bool logprobs, out long? maxToolCalls)
            ?? ReadString(root, "previous_response_id");
        if (error is not null)
        {
            document.Dispose();
            return false;
        }

        request = new ModelRequest(ApiEndpoint.Responses, document, model, stream, includeUsage: false, maxOutput, null, 1)
        {
            Reader = ResponsesRequestReader.Instance,
            Body = body,
            MaxTokensField = CapField,
            PreviousResponseId = root.TryGetProperty("previous_response_id", out var previous) && previous.ValueKind == JsonValueKind.String
                ? previous.GetString()
                : null,
            WantsLogprobs = logprobs,
            Background = root.TryGetProperty("background", out var background) && background.ValueKind == JsonValueKind.True,
            HasConversation = IsPresent(root, "conversation"),
            HasStoredPrompt = IsPresent(root, "prompt"),
            HostedTools = hostedTools.Count == 0 ? [] : hostedTools,
            MaxToolCalls = maxToolCalls,
        };
        return true;
    }

    private static GatewayError? Validate(JsonElement root, List<HostedToolUse> hostedTools, out string model, out bool stream, out long? maxOutput,
        out bool logprobs, out long? maxToolCalls)
    {
        model = "";
        stream = false;
        maxOutput = null;
        logprobs = false;
        maxToolCalls = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidRequest("The request body must be a JSON object.");
        }

        if (!root.TryGetProperty("model", out var modelElement))
        {
            return GatewayError.InvalidRequest("You must provide a model parameter.", "model");
        }

        if (modelElement.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(modelElement.GetString()))
        {
            return GatewayError.InvalidRequest("'model' must be a non-empty string.", "model");
        }

        model = modelElement.GetString()!;
        bool background = false;
        bool store = true;
        var error = CheckStoredReference(root, "conversation", allowString: true)
            ?? CheckStoredReference(root, "prompt", allowString: false)
            ?? ReadBool(root, "stream", out stream)
            ?? ReadBool(root, "background", out background)
            ?? ReadBool(root, "store", out store, defaultValue: true);
        if (error is not null)
        {
            return error;
        }

        if (background && (stream || !store))
        {
            // A background response is settled from its stored final state (polled by the caller or the gateway);
            // its stream would have to be resumed across polls, which the gateway does not relay.
            return NotAllowed(stream ? "stream" : "store", stream
                ? "A background response is retrieved by polling through this gateway; send it without 'stream'."
                : "A background response must be stored ('store' true) so that it can be polled and billed.");
        }

        if (IsPresent(root, "stream_options"))
        {
            if (root.GetProperty("stream_options").ValueKind != JsonValueKind.Object)
            {
                return GatewayError.InvalidRequest("'stream_options' must be an object.", "stream_options");
            }

            if (!stream)
            {
                return GatewayError.InvalidRequest("'stream_options' is only allowed when 'stream' is true.", "stream_options");
            }
        }

        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            return GatewayError.InvalidRequest("Missing required parameter: 'input'.", "input");
        }

        error = CheckInput(input)
            ?? ReadString(root, "instructions")
            ?? CheckTools(root, hostedTools)
            ?? CheckText(root)
            ?? ReadPositive(root, CapField, out maxOutput)
            ?? ReadPositive(root, "max_tool_calls", out maxToolCalls);
        if (error is not null)
        {
            return error;
        }

        if (IsPresent(root, "top_logprobs"))
        {
            var top = root.GetProperty("top_logprobs");
            if (top.ValueKind != JsonValueKind.Number || !top.TryGetInt32(out int count) || count is < 0 or > 20)
            {
                return GatewayError.InvalidRequest("'top_logprobs' must be an integer between 0 and 20.", "top_logprobs");
            }

            logprobs = count > 0;
        }

        return null;
    }

    private static GatewayError? CheckInput(JsonElement input)
    {
        if (input.ValueKind == JsonValueKind.String)
        {
            return null;
        }

        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)
        {
            return GatewayError.InvalidRequest("'input' must be a string or a non-empty array of items.", "input");
        }

        int index = 0;
        foreach (var item in input.EnumerateArray())
        {
            string at = $"input[{index}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                return GatewayError.InvalidRequest($"'{at}' must be an object.", at);
            }

            string? type = null;
            if (item.TryGetProperty("type", out var typeElement))
            {
                if (typeElement.ValueKind != JsonValueKind.String)
                {
                    return GatewayError.InvalidRequest($"'{at}.type' must be a string.", at + ".type");
                }

                type = typeElement.GetString();
            }

            var error = type switch
            {
                null or "message" => CheckMessage(item, at),
                "function_call" => RequireString(item, "name", at) ?? RequireString(item, "arguments", at) ?? RequireString(item, "call_id", at),
                "function_call_output" or "custom_tool_call_output" => RequireString(item, "call_id", at) ?? CheckOutput(item, at),
                "item_reference" => NotAllowed(at, $"'{at}' refers to an item stored upstream whose size Tollgate cannot see; send the item itself."),
                _ => null,
            };
            if (error is not null)
            {
                return error;
            }

            index++;
        }

        return null;
    }

    private static GatewayError? CheckMessage(JsonElement item, string at)
    {
        var error = RequireString(item, "role", at);
        if (error is not null)
        {
            return error;
        }

        if (!item.TryGetProperty("content", out var content))
        {
            return GatewayError.InvalidRequest($"Missing required parameter: '{at}.content'.", at + ".content");
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return null;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return GatewayError.InvalidRequest($"'{at}.content' must be a string or an array of parts.", at + ".content");
        }

        return CheckParts(content, at + ".content");
    }

    // The parts of a message's content or of a function call's output, at path `at`.
    private static GatewayError? CheckParts(JsonElement parts, string at)
    {
        int index = 0;
        foreach (var part in parts.EnumerateArray())
        {
            string partAt = $"{at}[{index}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return GatewayError.InvalidRequest($"'{partAt}' must be an object with a string 'type'.", partAt);
            }

            if ((type.ValueEquals("input_text") || type.ValueEquals("output_text")) && RequireString(part, "text", partAt) is { } textError)
            {
                return textError;
            }

            if (type.ValueEquals("input_file"))
            {
                return NotAllowed(partAt, $"'{partAt}': file inputs are not supported through this gateway (their tokens cannot be counted).");
            }

            index++;
        }

        return null;
    }

    private static GatewayError? CheckOutput(JsonElement item, string at)
    {
        if (!item.TryGetProperty("output", out var output))
        {
            return GatewayError.InvalidRequest($"Missing required parameter: '{at}.output'.", at + ".output");
        }

        return output.ValueKind switch
        {
            JsonValueKind.String => null,
            JsonValueKind.Array => CheckParts(output, at + ".output"),
            _ => GatewayError.InvalidRequest($"'{at}.output' must be a string or an array.", at + ".output"),
        };
    }

    // A stored conversation (an id, or an object with its id) or a stored prompt (an object with its id).
    private static GatewayError? CheckStoredReference(JsonElement root, string name, bool allowString)
    {
        if (!IsPresent(root, name))
        {
            return null;
        }

        var value = root.GetProperty(name);
        if (allowString && value.ValueKind == JsonValueKind.String)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Object && value.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            ? null
            : GatewayError.InvalidRequest(allowString ? $"'{name}' must be an id or an object with a string 'id'." : $"'{name}' must be an object with a string 'id'.", name);
    }

    private static GatewayError? CheckTools(JsonElement root, List<HostedToolUse> hostedTools)
    {
        if (!IsPresent(root, "tools"))
        {
            return null;
        }

        var tools = root.GetProperty("tools");
        if (tools.ValueKind != JsonValueKind.Array)
        {
            return GatewayError.InvalidRequest("'tools' must be an array.", "tools");
        }

        int index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            string at = $"tools[{index}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return GatewayError.InvalidRequest($"'{at}' must be an object with a string 'type'.", at);
            }

            if (type.ValueEquals(ResponsesTools.Namespace))
            {
                // A named group of the caller's own tools (Codex CLI's sub-agent tools): allowed when every tool in it is.
                if (NamespaceError(tool, at) is { } namespaceError)
                {
                    return namespaceError;
                }
            }
            else if (!ResponsesTools.IsCallerTool(type.GetString()!))
            {
                // A hosted tool: admission allows it by the plan and the model's fees.
                string hosted = Display(type.GetString()!);
                if (!hostedTools.Exists(t => t.Type == hosted))
                {
                    hostedTools.Add(new HostedToolUse(hosted, at + ".type"));
                }
            }

            if (type.ValueEquals("function") && RequireString(tool, "name", at) is { } nameError)
            {
                return nameError;
            }

            index++;
        }

        return null;
    }

    private static GatewayError? CheckText(JsonElement root)
    {
        if (!IsPresent(root, "text"))
        {
            return null;
        }

        var text = root.GetProperty("text");
        if (text.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidRequest("'text' must be an object.", "text");
        }

        if (text.TryGetProperty("format", out var format) && format.ValueKind != JsonValueKind.Null
            && (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String))
        {
            return GatewayError.InvalidRequest("'text.format' must be an object with a string 'type'.", "text.format");
        }

        return null;
    }

    private static string Display(string value) => value.Length <= 64 ? value : value[..64] + "…";

    private static bool IsPresent(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    private static GatewayError NotAllowed(string param, string message) =>
        GatewayError.InvalidRequest(message, param, ErrorCodes.ParamNotAllowed);

    private static GatewayError? RequireString(JsonElement item, string name, string at)
    {
        if (!item.TryGetProperty(name, out var value))
        {
            return GatewayError.InvalidRequest($"Missing required parameter: '{at}.{name}'.", $"{at}.{name}");
        }

        return value.ValueKind == JsonValueKind.String ? null : GatewayError.InvalidRequest($"'{at}.{name}' must be a string.", $"{at}.{name}");
    }

    private static GatewayError? ReadString(JsonElement root, string name) =>
        !IsPresent(root, name) || root.GetProperty(name).ValueKind == JsonValueKind.String
            ? null
            : GatewayError.InvalidRequest($"'{name}' must be a string.", name);

    private static GatewayError? ReadBool(JsonElement root, string name, out bool value, bool defaultValue = false)
    {
        value = defaultValue;
        if (!IsPresent(root, name))
        {
            return null;
        }

        var element = root.GetProperty(name);
        if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return GatewayError.InvalidRequest($"'{name}' must be a boolean.", name);
        }

        value = element.GetBoolean();
        return null;
    }

    private static GatewayError? ReadPositive(JsonElement root, string name, out long? value)
    {
        value = null;
        if (!IsPresent(root, name))
        {
            return null;
        }

        var element = root.GetProperty(name);
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long v) || v < 1)
        {
            return GatewayError.InvalidRequest($"'{name}' must be a positive integer.", name);
        }

        value = v;
        return null;
    }

    // The tools of a namespace: each one the caller's own (no hosted tool hides inside a group, and groups do not nest).
    private static GatewayError? NamespaceError(JsonElement tool, string at)
    {
        if (!tool.TryGetProperty("tools", out var members) || members.ValueKind != JsonValueKind.Array)
        {
            return GatewayError.InvalidRequest($"'{at}.tools' must be an array.", at + ".tools");
        }

        int index = 0;
        foreach (var member in members.EnumerateArray())
        {
            string memberAt = $"{at}.tools[{index++}]";
            if (member.ValueKind != JsonValueKind.Object || !member.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return GatewayError.InvalidRequest($"'{memberAt}' must be an object with a string 'type'.", memberAt);
            }

            if (!ResponsesTools.IsCallerTool(type.GetString()!))
            {
                return NotAllowed(memberAt + ".type",
                    $"The hosted tool '{Display(type.GetString()!)}' cannot be offered inside a namespace; offer it in 'tools' itself.");
            }
        }

        return null;
    }
}
