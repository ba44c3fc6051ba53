using System.Text.Json;

namespace Tollgate.Tokenization;

/// <summary>
/// Counts the input tokens of a request body the way OpenAI's chat formatting bills them: 3 tokens of framing per
/// message, 1 per <c>name</c>, the tokens of every role, text part, tool call and tool definition, and 3 tokens
/// priming the reply. The simulated upstream uses the same count, so an estimate of a simulated call is exact.
/// </summary>
public static class PromptTokenCounter
{
    private const int TokensPerMessage = 3;
    private const int TokensPerName = 1;
    private const int ReplyPriming = 3;

    /// <summary>Input tokens of a chat request (its <c>messages</c> and <c>tools</c>/<c>functions</c>).</summary>
    public static long CountChat(JsonElement body, TokenCounter counter)
    {
        long total = 0;
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                total += TokensPerMessage + CountMessage(message, counter);
            }

            total += ReplyPriming;
        }

        foreach (string definitions in (ReadOnlySpan<string>)["tools", "functions"])
        {
            if (body.TryGetProperty(definitions, out var tools) && tools.ValueKind == JsonValueKind.Array)
            {
                total += counter.Count(tools.GetRawText());
            }
        }

        return total;
    }

    /// <summary>Input tokens of a legacy completion's <c>prompt</c> (a string or an array of strings).</summary>
    public static long CountPrompt(JsonElement body, TokenCounter counter) =>
        body.TryGetProperty("prompt", out var prompt) ? CountTextOrArray(prompt, counter) : 0;

    /// <summary>Input tokens of an embeddings <c>input</c> (a string, strings, or pre-tokenized arrays).</summary>
    public static long CountEmbeddingInput(JsonElement body, TokenCounter counter) =>
        body.TryGetProperty("input", out var input) ? CountTextOrArray(input, counter) : 0;

    private static long CountMessage(JsonElement message, TokenCounter counter)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            return 0;
        }

        long total = 0;
        foreach (var property in message.EnumerateObject())
        {
            switch (property.Name)
            {
                case "role":
                    total += CountString(property.Value, counter);
                    break;
                case "name":
                    total += TokensPerName + CountString(property.Value, counter);
                    break;
                case "content":
                    total += CountContent(property.Value, counter);
                    break;
                case "tool_calls":
                case "function_call":
                    total += counter.Count(property.Value.GetRawText());
                    break;
                case "tool_call_id":
                    total += CountString(property.Value, counter);
                    break;
                default:
                    break;
            }
        }

        return total;
    }

    private static long CountContent(JsonElement content, TokenCounter counter)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return CountString(content, counter);
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return 0;
        }

        long total = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text))
            {
                total += CountString(text, counter);
            }
            else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("image_url", out _))
            {
                total += ImageTokens;
            }
        }

        return total;
    }

    /// <summary>Tokens charged for one image part (OpenAI's low-detail flat rate).</summary>
    public const int ImageTokens = 85;

    private static long CountTextOrArray(JsonElement value, TokenCounter counter)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return CountString(value, counter);
            case JsonValueKind.Array:
                long total = 0;
                foreach (var item in value.EnumerateArray())
                {
                    total += item.ValueKind switch
                    {
                        JsonValueKind.String => CountString(item, counter),
                        JsonValueKind.Number => 1,
                        JsonValueKind.Array => item.GetArrayLength(),
                        _ => 0,
                    };
                }

                return total;
            default:
                return 0;
        }
    }

    private static long CountString(JsonElement value, TokenCounter counter) =>
        value.ValueKind == JsonValueKind.String ? counter.Count(value.GetString()) : 0;
}
