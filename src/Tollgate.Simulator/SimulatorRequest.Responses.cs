using System.Text;
using System.Text.Json;
using Tollgate.Tokenization;

namespace Tollgate.Simulator;

internal sealed partial class SimulatorRequest
{
    // A Responses API request: input (a string or items), instructions, max_output_tokens, stream, function tools and
    // text.format; counted with PromptTokenCounter.CountResponses, as the gateway counts it.
    private static bool TryReadResponses(
        JsonElement root,
        string modelId,
        Func<string, TokenCounter> counterForModel,
        out SimulatorRequest? request,
        out SimulatorError? error)
    {
        request = null;
        if (!root.TryGetProperty("input", out var input)
            || !(input.ValueKind == JsonValueKind.String || (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0)))
        {
            error = SimulatorError.BadRequest("Missing or invalid required parameter: 'input'.", "input");
            return false;
        }

        bool stored = !root.TryGetProperty("store", out var storeElement) || storeElement.ValueKind != JsonValueKind.False;
        string? previous = root.TryGetProperty("previous_response_id", out var previousElement) && previousElement.ValueKind == JsonValueKind.String
            ? previousElement.GetString()
            : null;
        if (!TryReadBool(root, "stream", out bool stream, out error)
            || !TryReadCount(root, "max_output_tokens", int.MaxValue, out int? maxOutputTokens, out error)
            || !TryReadCount(root, "max_tool_calls", int.MaxValue, out int? maxToolCalls, out error)
            || !TryReadBool(root, "store", out _, out error)
            || !TryReadBool(root, "background", out bool background, out error)
            || !SimulatorToolRequest.TryReadResponses(root, input, out var tools, out error))
        {
            return false;
        }

        if (background && (stream || !stored))
        {
            error = SimulatorError.BadRequest(stream
                ? "The simulator runs background responses without 'stream'; poll them with GET /v1/responses/{id}."
                : "A background response must be stored ('store' true).", stream ? "stream" : "store");
            return false;
        }

        var text = new StringBuilder();
        if (root.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            text.Append(instructions.GetString()).Append('\n');
        }

        AppendResponseTexts(text, input);
        var counter = counterForModel(modelId);
        request = new SimulatorRequest
        {
            Kind = SimulatorEndpointKind.Responses,
            Model = modelId,
            Stream = stream,
            MaxTokens = maxOutputTokens,
            PromptText = text.ToString(),
            PromptTokens = PromptTokenCounter.CountResponses(root, counter),
            Tools = tools,
            Counter = counter,
            PreviousResponseId = previous,
            HostedTools = HostedToolsOf(root),
            MaxToolCalls = maxToolCalls,
            Store = stored,
            Background = background,
        };
        return true;
    }

    // The hosted tools offered: every tool type the caller does not run itself, each once.
    private static List<string> HostedToolsOf(JsonElement root)
    {
        var hosted = new List<string>();
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                    && type.GetString() is { } name && !Tollgate.Protocol.ResponsesTools.IsCallerTool(name)
                    && name != Tollgate.Protocol.ResponsesTools.Namespace && !hosted.Contains(name))
                {
                    hosted.Add(name);
                }
            }
        }

        return hosted;
    }

    private static void AppendResponseTexts(StringBuilder text, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                text.Append(value.GetString()).Append('\n');
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    AppendResponseTexts(text, item);
                }

                break;
            case JsonValueKind.Object:
                foreach (string name in (ReadOnlySpan<string>)["content", "text", "output"])
                {
                    if (value.TryGetProperty(name, out var inner))
                    {
                        AppendResponseTexts(text, inner);
                    }
                }

                break;
            default:
                break;
        }
    }
}
