using System.Text;
using System.Text.Json;
using Tollgate.Tokenization;

namespace Tollgate.Simulator;

/// <summary>The fields of an OpenAI request that the simulator acts on, read once from the body.</summary>
internal sealed partial class SimulatorRequest
{
    /// <summary>Embedding dimensions when the request names none.</summary>
    public const int DefaultDimensions = 8;

    private const int MaxChoices = 128;

    /// <summary>The route called.</summary>
    public required SimulatorEndpointKind Kind { get; init; }

    /// <summary>The <c>model</c> field.</summary>
    public required string Model { get; init; }

    /// <summary>Whether <c>stream</c> is true (chat and legacy completions only).</summary>
    public bool Stream { get; init; }

    /// <summary>Whether <c>stream_options.include_usage</c> is true.</summary>
    public bool IncludeUsage { get; init; }

    /// <summary><c>max_completion_tokens</c>, else <c>max_tokens</c>, else null.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>The <c>n</c> field (choices per request).</summary>
    public int ChoiceCount { get; init; } = 1;

    /// <summary>The embedding size.</summary>
    public int Dimensions { get; init; } = DefaultDimensions;

    /// <summary>Whether embeddings are asked for as base64 (<c>encoding_format: "base64"</c>).</summary>
    public bool Base64 { get; init; }

    /// <summary>Every text of the prompt, joined: what directives are read from and the reply is derived from.</summary>
    public required string PromptText { get; init; }

    /// <summary>Input tokens, counted with <see cref="PromptTokenCounter"/>.</summary>
    public required long PromptTokens { get; set; }

    /// <summary>The stored response a Responses API request continues (<c>previous_response_id</c>), or null.</summary>
    public string? PreviousResponseId { get; init; }

    /// <summary>The hosted tools a Responses API request offers (<c>web_search</c>, <c>file_search</c>, …), each type once, in order.</summary>
    public IReadOnlyList<string> HostedTools { get; init; } = [];

    /// <summary>The Responses API's <c>max_tool_calls</c>, when set: the most hosted tool calls made.</summary>
    public int? MaxToolCalls { get; init; }

    /// <summary>Whether the provider keeps the response (Responses API <c>store</c>, default true).</summary>
    public bool Store { get; init; } = true;

    /// <summary>Whether a Responses API request runs in the background (<c>background: true</c>): answered <c>queued</c> at once, polled to its end.</summary>
    public bool Background { get; init; }

    /// <summary>The tools, tool choice and output format of a chat request.</summary>
    public SimulatorToolRequest Tools { get; init; } = SimulatorToolRequest.None;

    /// <summary>The model's tokenizer (what the reply's pieces are counted with).</summary>
    public required TokenCounter Counter { get; init; }

    /// <summary>One key per embedding input (the text, or the raw JSON of a token array).</summary>
    public IReadOnlyList<string> EmbeddingInputs { get; init; } = [];

    /// <summary>The name billed for the route.</summary>
    public string EndpointName => Kind switch
    {
        SimulatorEndpointKind.ChatCompletions => "chat/completions",
        SimulatorEndpointKind.Completions => "completions",
        SimulatorEndpointKind.Messages => "messages",
        SimulatorEndpointKind.MessagesCountTokens => "messages/count_tokens",
        SimulatorEndpointKind.Responses => "responses",
        _ => "embeddings",
    };

    /// <summary>Whether the route is one of Anthropic's (errors and bodies in Anthropic's shapes).</summary>
    public static bool IsAnthropic(SimulatorEndpointKind kind) => kind is SimulatorEndpointKind.Messages or SimulatorEndpointKind.MessagesCountTokens;

    /// <summary>Reads <paramref name="body"/>; false with a 400 when it is not a valid request for <paramref name="kind"/>.</summary>
    public static bool TryParse(
        SimulatorEndpointKind kind,
        ReadOnlyMemory<byte> body,
        Func<string, TokenCounter> counterForModel,
        out SimulatorRequest? request,
        out SimulatorError? error)
    {
        request = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            error = SimulatorError.BadRequest("We could not parse the JSON body of your request.");
            return false;
        }

        using (document)
        {
            return TryRead(kind, document.RootElement, counterForModel, out request, out error);
        }
    }

    private static bool TryRead(
        SimulatorEndpointKind kind,
        JsonElement root,
        Func<string, TokenCounter> counterForModel,
        out SimulatorRequest? request,
        out SimulatorError? error)
    {
        request = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = SimulatorError.BadRequest("The request body must be a JSON object.");
            return false;
        }

        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } modelId)
        {
            error = SimulatorError.BadRequest("You must provide a model parameter.", "model");
            return false;
        }

        if (kind == SimulatorEndpointKind.Responses)
        {
            return TryReadResponses(root, modelId, counterForModel, out request, out error);
        }

        string inputName = kind switch
        {
            SimulatorEndpointKind.ChatCompletions or SimulatorEndpointKind.Messages or SimulatorEndpointKind.MessagesCountTokens => "messages",
            SimulatorEndpointKind.Completions => "prompt",
            _ => "input",
        };
        if (!root.TryGetProperty(inputName, out var input) || !IsUsableInput(kind, input))
        {
            error = SimulatorError.BadRequest($"Missing or invalid required parameter: '{inputName}'.", inputName);
            return false;
        }

        if (!TryReadBool(root, "stream", out bool stream, out error)
            || !TryReadIncludeUsage(root, out bool includeUsage, out error)
            || !TryReadCount(root, "max_completion_tokens", int.MaxValue, out int? maxCompletionTokens, out error)
            || !TryReadCount(root, "max_tokens", int.MaxValue, out int? maxTokens, out error)
            || !TryReadCount(root, "n", MaxChoices, out int? choices, out error)
            || !TryReadCount(root, "dimensions", 65536, out int? dimensions, out error)
            || !TryReadEncodingFormat(root, out bool base64, out error))
        {
            return false;
        }

        var tools = SimulatorToolRequest.None;
        if (kind == SimulatorEndpointKind.ChatCompletions && !SimulatorToolRequest.TryRead(root, input, out tools, out error))
        {
            return false;
        }

        if (kind == SimulatorEndpointKind.Messages && !SimulatorToolRequest.TryReadMessages(root, input, out tools, out error))
        {
            return false;
        }

        if (kind == SimulatorEndpointKind.Messages && maxTokens is null)
        {
            error = SimulatorError.BadRequest("max_tokens: Field required", "max_tokens");
            return false;
        }

        var counter = counterForModel(modelId);
        bool anthropic = IsAnthropic(kind);
        bool embeddings = kind == SimulatorEndpointKind.Embeddings;
        request = new SimulatorRequest
        {
            Kind = kind,
            Model = modelId,
            Stream = stream && !embeddings,
            IncludeUsage = (includeUsage || anthropic) && stream && !embeddings,
            MaxTokens = maxCompletionTokens ?? maxTokens,
            ChoiceCount = embeddings || anthropic ? 1 : choices ?? 1,
            Dimensions = dimensions ?? DefaultDimensions,
            Base64 = base64,
            PromptText = anthropic ? JoinSystem(root) + JoinMessageTexts(input)
                : kind == SimulatorEndpointKind.ChatCompletions ? JoinMessageTexts(input) : JoinTexts(input),
            PromptTokens = kind switch
            {
                SimulatorEndpointKind.Messages or SimulatorEndpointKind.MessagesCountTokens => MessagesTokenCounter.Count(root, counter),
                SimulatorEndpointKind.ChatCompletions => PromptTokenCounter.CountChat(root, counter),
                SimulatorEndpointKind.Completions => PromptTokenCounter.CountPrompt(root, counter),
                _ => PromptTokenCounter.CountEmbeddingInput(root, counter),
            },
            EmbeddingInputs = embeddings ? EmbeddingKeys(input) : [],
            Tools = tools,
            Counter = counter,
        };
        error = null;
        return true;
    }

    private static bool IsUsableInput(SimulatorEndpointKind kind, JsonElement input) => kind switch
    {
        SimulatorEndpointKind.ChatCompletions or SimulatorEndpointKind.Messages or SimulatorEndpointKind.MessagesCountTokens =>
            input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0,
        _ => input.ValueKind == JsonValueKind.String
            || (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0),
    };

    // As OpenAI does, any value but "float" or "base64" is a 400 (a non-string one must not reach ValueEquals, which throws).
    private static bool TryReadEncodingFormat(JsonElement root, out bool base64, out SimulatorError? error)
    {
        base64 = false;
        error = null;
        if (!root.TryGetProperty("encoding_format", out var format) || format.ValueKind == JsonValueKind.Null
            || (format.ValueKind == JsonValueKind.String && format.ValueEquals("float")))
        {
            return true;
        }

        if (format.ValueKind == JsonValueKind.String && format.ValueEquals("base64"))
        {
            base64 = true;
            return true;
        }

        error = SimulatorError.BadRequest("Invalid value for 'encoding_format': expected 'float' or 'base64'.", "encoding_format");
        return false;
    }

    private static bool TryReadBool(JsonElement root, string name, out bool value, out SimulatorError? error)
    {
        value = false;
        error = null;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            value = element.GetBoolean();
            return true;
        }

        error = SimulatorError.BadRequest($"Invalid type for '{name}': expected a boolean.", name);
        return false;
    }

    private static bool TryReadIncludeUsage(JsonElement root, out bool value, out SimulatorError? error)
    {
        value = false;
        error = null;
        return !root.TryGetProperty("stream_options", out var options)
            || options.ValueKind != JsonValueKind.Object
            || TryReadBool(options, "include_usage", out value, out error);
    }

    private static bool TryReadCount(JsonElement root, string name, int max, out int? value, out SimulatorError? error)
    {
        value = null;
        error = null;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out int number) && number >= 1 && number <= max)
        {
            value = number;
            return true;
        }

        error = SimulatorError.BadRequest($"Invalid '{name}': expected an integer from 1 to {max}.", name);
        return false;
    }

    private static string JoinMessageTexts(JsonElement messages)
    {
        var text = new StringBuilder();
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
            {
                AppendTexts(text, content);
            }
        }

        return text.ToString();
    }

    private static string JoinSystem(JsonElement root)
    {
        var text = new StringBuilder();
        if (root.TryGetProperty("system", out var system))
        {
            AppendTexts(text, system);
        }

        return text.ToString();
    }

    private static string JoinTexts(JsonElement input)
    {
        var text = new StringBuilder();
        AppendTexts(text, input);
        return text.ToString();
    }

    private static void AppendTexts(StringBuilder text, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                text.Append(value.GetString()).Append('\n');
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    AppendTexts(text, item);
                }

                break;
            case JsonValueKind.Object when value.TryGetProperty("text", out var part):
                AppendTexts(text, part);
                break;
            default:
                break;
        }
    }

    private static string[] EmbeddingKeys(JsonElement input)
    {
        if (input.ValueKind == JsonValueKind.String)
        {
            return [input.GetString()!];
        }

        // A flat array of numbers is one pre-tokenized input; otherwise each item is one input.
        if (input[0].ValueKind == JsonValueKind.Number)
        {
            return [input.GetRawText()];
        }

        var keys = new string[input.GetArrayLength()];
        int i = 0;
        foreach (var item in input.EnumerateArray())
        {
            keys[i++] = item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText();
        }

        return keys;
    }
}
