using System.Text;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>The text a caller sent (message contents and text parts, prompt, or embedding input), for input validation.</summary>
public static class RequestText
{
    /// <summary>Collects the request's text, at most <paramref name="maxChars"/> characters.</summary>
    public static string Collect(ModelRequest request, int maxChars = 4 * 1024 * 1024)
    {
        var text = new StringBuilder();
        var root = request.Document.RootElement;
        switch (request.Endpoint)
        {
            case ApiEndpoint.ChatCompletions when root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array:
                foreach (var message in messages.EnumerateArray())
                {
                    if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                    {
                        Append(text, content, maxChars);
                    }
                }

                break;
            case ApiEndpoint.Completions when root.TryGetProperty("prompt", out var prompt):
                Append(text, prompt, maxChars);
                break;
            case ApiEndpoint.Embeddings when root.TryGetProperty("input", out var input):
                Append(text, input, maxChars);
                break;
            default:
                break;
        }

        return text.ToString();
    }

    /// <summary>
    /// The text of an Anthropic Messages request: <c>system</c>, then each message's content (text blocks, tool
    /// results), at most <paramref name="maxChars"/> characters.
    /// </summary>
    public static string CollectMessages(JsonElement root, int maxChars = 4 * 1024 * 1024)
    {
        var text = new StringBuilder();
        if (root.TryGetProperty("system", out var system))
        {
            Append(text, system, maxChars);
        }

        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                {
                    AppendBlocks(text, content, maxChars, 0);
                }
            }
        }

        return text.ToString();
    }

    private static void AppendBlocks(StringBuilder text, JsonElement content, int maxChars, int depth)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            Append(text, content, maxChars);
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
                Append(text, part, maxChars);
            }
            else if (depth == 0 && block.TryGetProperty("content", out var inner))
            {
                AppendBlocks(text, inner, maxChars, depth + 1);
            }
        }
    }

    private static void Append(StringBuilder text, JsonElement value, int maxChars)
    {
        if (text.Length >= maxChars)
        {
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                string s = value.GetString()!;
                text.Append(s, 0, Math.Min(s.Length, maxChars - text.Length)).Append('\n');
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    Append(text, item, maxChars);
                }

                break;
            case JsonValueKind.Object when value.TryGetProperty("text", out var part):
                Append(text, part, maxChars);
                break;
            default:
                break;
        }
    }
}
