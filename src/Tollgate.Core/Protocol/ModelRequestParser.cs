using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// Reads a model request body: strict JSON (duplicate keys are an error, as they are ambiguous between the
/// gateway and the upstream), and checks the type of every field policy depends on.
/// </summary>
public static class ModelRequestParser
{
    private static readonly JsonDocumentOptions s_options = new()
    {
        AllowDuplicateProperties = false,
        MaxDepth = 64,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>Parses <paramref name="body"/>; on failure returns false with a 400 error naming the field.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> body, ApiEndpoint endpoint, out ModelRequest? request, out GatewayError? error)
    {
        request = null;
        if (!TryParseDocument(body, out var document, out error))
        {
            return false;
        }

        if (endpoint == ApiEndpoint.Responses)
        {
            return ResponsesRequestParser.TryRead(body, document, out request, out error);
        }

        error = Validate(document.RootElement, endpoint, out string model, out bool stream, out bool includeUsage,
            out long? maxTokens, out long? maxCompletionTokens, out int n);
        if (error is not null)
        {
            document.Dispose();
            return false;
        }

        var root = document.RootElement;
        int bestOf = 1;
        if (endpoint == ApiEndpoint.Completions && root.TryGetProperty("best_of", out var bestOfElement) && bestOfElement.ValueKind != JsonValueKind.Null)
        {
            if (bestOfElement.ValueKind != JsonValueKind.Number || !bestOfElement.TryGetInt32(out bestOf) || bestOf < n || bestOf > 128)
            {
                document.Dispose();
                error = GatewayError.InvalidRequest("'best_of' must be an integer between n and 128.", "best_of");
                return false;
            }
        }

        if (maxTokens is not null && maxCompletionTokens is not null)
        {
            document.Dispose();
            error = GatewayError.InvalidRequest("Set either 'max_tokens' or 'max_completion_tokens', not both.", "max_completion_tokens");
            return false;
        }

        int documents = 0;
        if (endpoint == ApiEndpoint.ChatCompletions && (error = ReadContentParts(root, out documents)) is not null)
        {
            document.Dispose();
            return false;
        }

        request = new ModelRequest(endpoint, document, model, stream, includeUsage, maxTokens, maxCompletionTokens, n)
        {
            DocumentBlocks = documents,
            Reader = OpenAIRequestReader.For(endpoint),
            Body = body,
            BestOf = bestOf,
            WantsLogprobs = IsSet(root, "logprobs") || IsSet(root, "top_logprobs"),
            HasLogitBias = IsSet(root, "logit_bias"),
        };
        return true;
    }

    /// <summary>
    /// Parses <paramref name="body"/> strictly (no duplicate keys, comments or trailing commas; every string valid
    /// Unicode); on failure returns false with a 400 that names where, never quoting the body.
    /// </summary>
    internal static bool TryParseDocument(ReadOnlyMemory<byte> body, out JsonDocument document, out GatewayError? error)
    {
        document = null!;
        error = null;
        try
        {
            document = JsonDocument.Parse(body, s_options);
        }
        catch (JsonException e)
        {
            error = GatewayError.InvalidRequest(DescribeJsonError(e));
            return false;
        }
        catch (InvalidOperationException)
        {
            // The duplicate-key check decodes property names, and throws on one that is not valid Unicode: parse
            // again without the check (this is the error path) to name where it is.
            using var lenient = JsonDocument.Parse(body, s_options with { AllowDuplicateProperties = true });
            error = InvalidText(JsonTextValidator.FindInvalid(lenient.RootElement) ?? "");
            return false;
        }

        if (JsonTextValidator.FindInvalid(document.RootElement) is { } invalidPath)
        {
            document.Dispose();
            document = null!;
            error = InvalidText(invalidPath);
            return false;
        }

        return true;
    }

    private static GatewayError InvalidText(string path) => GatewayError.InvalidRequest(
        "The request holds text that is not valid Unicode (invalid UTF-8 bytes or an unpaired surrogate escape)"
        + (path.Length > 0 ? $" at '{path}'." : "."), path.Length > 0 ? path : null);

    private static GatewayError? Validate(JsonElement root, ApiEndpoint endpoint, out string model, out bool stream,
        out bool includeUsage, out long? maxTokens, out long? maxCompletionTokens, out int n)
    {
        model = "";
        stream = false;
        includeUsage = false;
        maxTokens = null;
        maxCompletionTokens = null;
        n = 1;
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
        var inputError = endpoint switch
        {
            ApiEndpoint.ChatCompletions => RequireArray(root, "messages"),
            ApiEndpoint.Completions => RequireTextOrTokens(root, "prompt") ?? OptionalString(root, "suffix"),
            _ => RequireTextOrTokens(root, "input"),
        };
        if (inputError is not null)
        {
            return inputError;
        }

        if (endpoint == ApiEndpoint.Embeddings)
        {
            return null;
        }

        if (root.TryGetProperty("stream", out var streamElement) && streamElement.ValueKind != JsonValueKind.Null)
        {
            if (streamElement.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return GatewayError.InvalidRequest("'stream' must be a boolean.", "stream");
            }

            stream = streamElement.GetBoolean();
        }

        if (root.TryGetProperty("stream_options", out var options) && options.ValueKind != JsonValueKind.Null)
        {
            if (options.ValueKind != JsonValueKind.Object)
            {
                return GatewayError.InvalidRequest("'stream_options' must be an object.", "stream_options");
            }

            if (!stream)
            {
                return GatewayError.InvalidRequest("'stream_options' is only allowed when 'stream' is true.", "stream_options");
            }

            if (options.TryGetProperty("include_usage", out var include) && include.ValueKind != JsonValueKind.Null)
            {
                if (include.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return GatewayError.InvalidRequest("'stream_options.include_usage' must be a boolean.", "stream_options.include_usage");
                }

                includeUsage = include.GetBoolean();
            }
        }

        return ReadPositive(root, "max_tokens", out maxTokens)
            ?? ReadPositive(root, "max_completion_tokens", out maxCompletionTokens)
            ?? ReadN(root, out n);
    }

    /// <summary>
    /// Reads the parts of every message's content whose tokens the prompt's count cannot see: a <c>file</c> part (a
    /// document, inline or by id) is a document block, reserved at the model's <c>DocumentTokens</c> and refused when
    /// the model has none; an <c>input_audio</c> part, and a message's <c>audio</c> (a reference to an earlier audio answer),
    /// are refused, since their tokens depend on the audio's length.
    /// </summary>
    private static GatewayError? ReadContentParts(JsonElement root, out int documents)
    {
        documents = 0;
        int index = 0;
        foreach (var message in root.GetProperty("messages").EnumerateArray())
        {
            if (message.TryGetProperty("audio", out var audio) && audio.ValueKind != JsonValueKind.Null)
            {
                // An assistant message's reference to an earlier audio answer: the provider bills that audio as input.
                string at = $"messages[{index}].audio";
                return GatewayError.InvalidRequest(
                    $"'{at}': audio is not supported through this gateway (its tokens cannot be counted before they are billed).",
                    at, ErrorCodes.ParamNotAllowed);
            }

            if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                int partIndex = 0;
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
                    {
                        if (type.ValueEquals("file"u8))
                        {
                            documents++;
                        }
                        else if (type.ValueEquals("input_audio"u8))
                        {
                            string at = $"messages[{index}].content[{partIndex}]";
                            return GatewayError.InvalidRequest(
                                $"'{at}': audio inputs are not supported through this gateway (their tokens cannot be counted before they are billed).",
                                at, ErrorCodes.ParamNotAllowed);
                        }
                    }

                    partIndex++;
                }
            }

            index++;
        }

        return null;
    }

    private static bool IsSet(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.False)
        && !(value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) && number == 0)
        && !(value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any());

    private static GatewayError? ReadN(JsonElement root, out int n)
    {
        n = 1;
        if (!root.TryGetProperty("n", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out n) || n is < 1 or > 128)
        {
            return GatewayError.InvalidRequest("'n' must be an integer between 1 and 128.", "n");
        }

        return null;
    }

    private static GatewayError? ReadPositive(JsonElement root, string name, out long? value)
    {
        value = null;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long v) || v < 1)
        {
            return GatewayError.InvalidRequest($"'{name}' must be a positive integer.", name);
        }

        value = v;
        return null;
    }

    private static GatewayError? RequireArray(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var element))
        {
            return GatewayError.InvalidRequest($"Missing required parameter: '{name}'.", name);
        }

        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0)
        {
            return GatewayError.InvalidRequest($"'{name}' must be a non-empty array.", name);
        }

        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                return GatewayError.InvalidRequest($"Every item of '{name}' must be an object.", name);
            }
        }

        return null;
    }

    private static GatewayError? RequireStringOrArray(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var element))
        {
            return GatewayError.InvalidRequest($"Missing required parameter: '{name}'.", name);
        }

        return element.ValueKind is JsonValueKind.String or JsonValueKind.Array
            ? null
            : GatewayError.InvalidRequest($"'{name}' must be a string or an array.", name);
    }

    // A prompt or an embedding input: a string, or an array of strings, token ids or arrays of token ids (the shapes
    // the count reads; any other item would go uncounted).
    private static GatewayError? RequireTextOrTokens(JsonElement root, string name)
    {
        if (RequireStringOrArray(root, name) is { } error)
        {
            return error;
        }

        var element = root.GetProperty(name);
        if (element.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        int index = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (!(item.ValueKind == JsonValueKind.String || IsTokenId(item) || (item.ValueKind == JsonValueKind.Array && AllTokenIds(item))))
            {
                string at = $"{name}[{index}]";
                return GatewayError.InvalidRequest($"'{at}' must be a string, a token id or an array of token ids.", at);
            }

            index++;
        }

        return null;
    }

    private static bool IsTokenId(JsonElement item) => item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out long id) && id >= 0;

    private static bool AllTokenIds(JsonElement array)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (!IsTokenId(item))
            {
                return false;
            }
        }

        return true;
    }

    private static GatewayError? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var element) && element.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)
            ? GatewayError.InvalidRequest($"'{name}' must be a string.", name)
            : null;

    private static string DescribeJsonError(JsonException e)
    {
        // The parser's own message can quote the body; report only the position and the kind of problem.
        string what = e.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("duplicate", StringComparison.Ordinal)
            ? "a duplicate property name"
            : "invalid JSON";
        return e.LineNumber is { } line
            ? $"The request body is not valid JSON: {what} at line {line + 1}, position {e.BytePositionInLine + 1}."
            : $"The request body is not valid JSON: {what}.";
    }
}
