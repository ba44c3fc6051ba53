using System.Text.Json;
using Tollgate.Pricing;
using Tollgate.Tokenization;

namespace Tollgate.Protocol;

/// <summary>
/// Reads Anthropic Messages requests (<c>POST /v1/messages</c> and <c>/v1/messages/count_tokens</c>) strictly into the
/// neutral <see cref="ModelRequest"/>: <c>model</c>, <c>messages</c> (each a <c>user</c> or <c>assistant</c> turn whose
/// content is a string or an array of typed blocks), <c>max_tokens</c> (required by this protocol for generation),
/// <c>stream</c>, <c>system</c>, <c>tools</c>, <c>thinking</c>; counts the input with <see cref="MessagesTokenCounter"/>.
/// </summary>
public sealed class AnthropicRequestReader : IRequestReader
{
    /// <summary>Anthropic's smallest <c>thinking.budget_tokens</c>.</summary>
    public const long MinThinkingBudget = 1024;

    private AnthropicRequestReader(ApiEndpoint endpoint) => Endpoint = endpoint;

    /// <summary><c>POST /v1/messages</c>.</summary>
    public static AnthropicRequestReader Messages { get; } = new(ApiEndpoint.Messages);

    /// <summary><c>POST /v1/messages/count_tokens</c>: the same body, without <c>max_tokens</c>.</summary>
    public static AnthropicRequestReader CountTokens { get; } = new(ApiEndpoint.MessagesCountTokens);

    /// <inheritdoc />
    public ApiEndpoint Endpoint { get; }

    /// <inheritdoc />
    public bool TryRead(ReadOnlyMemory<byte> body, out ModelRequest? request, out GatewayError? refusal)
    {
        request = null;
        if (!ModelRequestParser.TryParseDocument(body, out var document, out refusal))
        {
            return false;
        }

        var root = document.RootElement;
        refusal = Validate(root, out var fields);
        if (refusal is not null)
        {
            document.Dispose();
            return false;
        }

        request = new ModelRequest(Endpoint, document, fields.Model, fields.Stream, includeUsage: fields.Stream, fields.MaxTokens, null, 1)
        {
            Reader = this,
            Body = body,
            CacheWrites = fields.CacheWrites,
            ThinkingBudget = fields.ThinkingBudget,
            DocumentBlocks = MessagesTokenCounter.CountDocuments(root),
        };
        return true;
    }

    /// <inheritdoc />
    public long CountInput(ModelRequest request, TokenCounter counter, long stopAfter) =>
        MessagesTokenCounter.Count(request.Document.RootElement, counter, stopAfter);

    /// <inheritdoc />
    public void AppendInputText(ModelRequest request, InputTextBuffer text) => RequestText.CollectMessages(request.Document.RootElement, text);

    private GatewayError? Validate(JsonElement root, out Fields fields)
    {
        fields = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidRequest("The request body must be a JSON object.");
        }

        if (!root.TryGetProperty("model", out var model))
        {
            return GatewayError.InvalidRequest("model: Field required.", "model");
        }

        if (model.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(model.GetString()))
        {
            return GatewayError.InvalidRequest("model: must be a non-empty string.", "model");
        }

        fields.Model = model.GetString()!;
        if (CheckMessages(root) is { } messagesError)
        {
            return messagesError;
        }

        if (root.TryGetProperty("system", out var system) && system.ValueKind is not (JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Null))
        {
            return GatewayError.InvalidRequest("system: must be a string or an array of text blocks.", "system");
        }

        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
        {
            return GatewayError.InvalidRequest("tools: must be an array.", "tools");
        }

        if (Endpoint == ApiEndpoint.Messages)
        {
            if (!root.TryGetProperty("max_tokens", out var maxTokens) || maxTokens.ValueKind == JsonValueKind.Null)
            {
                return GatewayError.InvalidRequest("max_tokens: Field required (the Messages API needs an output cap).", "max_tokens");
            }

            if (maxTokens.ValueKind != JsonValueKind.Number || !maxTokens.TryGetInt64(out long max) || max < 1)
            {
                return GatewayError.InvalidRequest("max_tokens: must be a positive integer.", "max_tokens");
            }

            fields.MaxTokens = max;
            if (root.TryGetProperty("stream", out var stream) && stream.ValueKind != JsonValueKind.Null)
            {
                if (stream.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return GatewayError.InvalidRequest("stream: must be a boolean.", "stream");
                }

                fields.Stream = stream.GetBoolean();
            }
        }

        if (ReadThinking(root, out fields.ThinkingBudget) is { } thinkingError)
        {
            return thinkingError;
        }

        fields.CacheWrites = FindCacheWrites(root, 0);
        return null;
    }

    private static GatewayError? CheckMessages(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var messages))
        {
            return GatewayError.InvalidRequest("messages: Field required.", "messages");
        }

        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return GatewayError.InvalidRequest("messages: must be a non-empty array.", "messages");
        }

        int i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            string at = $"messages.{i}";
            if (message.ValueKind != JsonValueKind.Object)
            {
                return GatewayError.InvalidRequest($"{at}: must be an object.", at);
            }

            if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
                || !(role.ValueEquals("user") || role.ValueEquals("assistant")))
            {
                return GatewayError.InvalidRequest($"{at}.role: must be 'user' or 'assistant'.", at + ".role");
            }

            if (!message.TryGetProperty("content", out var content))
            {
                return GatewayError.InvalidRequest($"{at}.content: Field required.", at + ".content");
            }

            if (content.ValueKind == JsonValueKind.Array)
            {
                int j = 0;
                foreach (var block in content.EnumerateArray())
                {
                    if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                    {
                        return GatewayError.InvalidRequest($"{at}.content.{j}: must be an object with a string 'type'.", $"{at}.content.{j}");
                    }

                    j++;
                }
            }
            else if (content.ValueKind != JsonValueKind.String)
            {
                return GatewayError.InvalidRequest($"{at}.content: must be a string or an array of content blocks.", at + ".content");
            }

            i++;
        }

        return null;
    }

    private static GatewayError? ReadThinking(JsonElement root, out long? budget)
    {
        budget = null;
        if (!root.TryGetProperty("thinking", out var thinking) || thinking.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (thinking.ValueKind != JsonValueKind.Object || !thinking.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return GatewayError.InvalidRequest("thinking: must be an object with a string 'type'.", "thinking");
        }

        if (!type.ValueEquals("enabled"))
        {
            return null;
        }

        if (!thinking.TryGetProperty("budget_tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Number
            || !tokens.TryGetInt64(out long value) || value < MinThinkingBudget)
        {
            return GatewayError.InvalidRequest($"thinking.budget_tokens: must be an integer of at least {MinThinkingBudget}.", "thinking.budget_tokens");
        }

        budget = value;
        return null;
    }

    // The longest cache lifetime any cache_control breakpoint asks for (system, messages' blocks, tools), a few levels deep.
    private static CacheWrites FindCacheWrites(JsonElement value, int depth)
    {
        if (depth > 6)
        {
            return CacheWrites.None;
        }

        var found = CacheWrites.None;
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    if (property.NameEquals("cache_control"u8))
                    {
                        if (property.Value.ValueKind == JsonValueKind.Object)
                        {
                            bool hour = property.Value.TryGetProperty("ttl", out var ttl) && ttl.ValueKind == JsonValueKind.String && ttl.ValueEquals("1h");
                            found = (CacheWrites)Math.Max((int)found, (int)(hour ? CacheWrites.OneHour : CacheWrites.FiveMinutes));
                        }
                    }
                    else if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array
                        && !property.NameEquals("input_schema"u8) && !property.NameEquals("input"u8) && !property.NameEquals("source"u8))
                    {
                        found = (CacheWrites)Math.Max((int)found, (int)FindCacheWrites(property.Value, depth + 1));
                    }

                    if (found == CacheWrites.OneHour)
                    {
                        return found;
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    found = (CacheWrites)Math.Max((int)found, (int)FindCacheWrites(item, depth + 1));
                    if (found == CacheWrites.OneHour)
                    {
                        return found;
                    }
                }

                break;
            default:
                break;
        }

        return found;
    }

    private struct Fields
    {
        public string Model;
        public bool Stream;
        public long? MaxTokens;
        public long? ThinkingBudget;
        public CacheWrites CacheWrites;
    }
}
