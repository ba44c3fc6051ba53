using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>The text a caller sent (message contents and text parts, prompt, or embedding input), for input validation.</summary>
public static class RequestText
{
    /// <summary>Collects the request's text into <paramref name="text"/>.</summary>
    public static void Collect(ModelRequest request, InputTextBuffer text)
    {
        var root = request.Document.RootElement;
        switch (request.Endpoint)
        {
            case ApiEndpoint.ChatCompletions when root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array:
                foreach (var message in messages.EnumerateArray())
                {
                    if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                    {
                        Append(text, content);
                    }
                }

                break;
            case ApiEndpoint.Completions when root.TryGetProperty("prompt", out var prompt):
                Append(text, prompt);
                if (root.TryGetProperty("suffix", out var suffix))
                {
                    Append(text, suffix);
                }

                break;
            case ApiEndpoint.Embeddings when root.TryGetProperty("input", out var input):
                Append(text, input);
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// The text of an Anthropic Messages request: <c>system</c>, then each message's content (text blocks, tool
    /// results), into <paramref name="text"/>.
    /// </summary>
    public static void CollectMessages(JsonElement root, InputTextBuffer text)
    {
        if (root.TryGetProperty("system", out var system))
        {
            Append(text, system);
        }

        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                {
                    AppendBlocks(text, content, 0);
                }
            }
        }
    }

    private static void AppendBlocks(InputTextBuffer text, JsonElement content, int depth)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            Append(text, content);
            return;
        }

        foreach (var block in content.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (block.TryGetProperty("text", out var part))
            {
                Append(text, part);
            }
            else if (depth == 0 && block.TryGetProperty("content", out var inner))
            {
                AppendBlocks(text, inner, depth + 1);
            }
        }
    }

    private static void Append(InputTextBuffer text, JsonElement value)
    {
        if (text.IsFull)
        {
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                text.AppendLine(value);
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    Append(text, item);
                }

                break;
            case JsonValueKind.Object when value.TryGetProperty("text", out var part):
                Append(text, part);
                break;
            default:
                break;
        }
    }
}
