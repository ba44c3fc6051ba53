using System.Text.Json;

namespace Tollgate.Tokenization;

public static partial class PromptTokenCounter
{
    /// <summary>
    /// Input tokens of a Responses API request, counted as the chat messages it stands for: <c>instructions</c> as a
    /// system message, a string <c>input</c> as a user message, each input item as a message (a function call by its
    /// name and arguments, a function or custom tool call's output by its text, any other item by its JSON), 3 tokens
    /// priming the reply, and the <c>tools</c> and a structured output's schema (<c>text.format</c>) as the chat count
    /// does.
    /// </summary>
    /// <param name="body">The request body.</param>
    /// <param name="counter">The model's token counter.</param>
    /// <param name="stopAfter">Stop once the count passes this; the result is then greater than it.</param>
    public static long CountResponses(JsonElement body, TokenCounter counter, long stopAfter = long.MaxValue)
    {
        var tally = new Tally(counter, stopAfter);
        if (body.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            tally.Add(TokensPerMessage);
            tally.AddText("system");
            tally.AddString(instructions);
        }

        if (body.TryGetProperty("input", out var input))
        {
            if (input.ValueKind == JsonValueKind.String)
            {
                tally.Add(TokensPerMessage);
                tally.AddText("user");
                tally.AddString(input);
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in input.EnumerateArray())
                {
                    tally.Add(TokensPerMessage);
                    CountItem(item, ref tally);
                    if (tally.IsOver)
                    {
                        return tally.Total;
                    }
                }
            }

            tally.Add(ReplyPriming);
        }

        if (body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            tally.AddText(tools.GetRawText());
        }

        if (body.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.Object && text.TryGetProperty("format", out var format)
            && format.ValueKind == JsonValueKind.Object)
        {
            // A structured output's schema is put before the model, as tool definitions are: counted as its JSON.
            tally.AddText(format.GetRawText());
        }

        return tally.Total;
    }

    private static void CountItem(JsonElement item, ref Tally tally)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        string? type = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case null or "message":
                if (item.TryGetProperty("role", out var role))
                {
                    tally.AddRole(role);
                }

                if (item.TryGetProperty("content", out var content))
                {
                    CountResponseContent(content, ref tally);
                }

                break;
            case "function_call":
                if (item.TryGetProperty("name", out var name))
                {
                    tally.AddString(name);
                }

                if (item.TryGetProperty("arguments", out var arguments))
                {
                    tally.AddString(arguments);
                }

                break;
            case "function_call_output" or "custom_tool_call_output":
                if (item.TryGetProperty("output", out var output))
                {
                    if (output.ValueKind == JsonValueKind.String)
                    {
                        tally.AddString(output);
                    }
                    else
                    {
                        CountResponseContent(output, ref tally);
                    }
                }

                break;
            default:
                tally.AddText(item.GetRawText());
                break;
        }
    }

    private static void CountResponseContent(JsonElement content, ref Tally tally)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            tally.AddString(content);
            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            // By the part's type, as the upstream reads it: a member of another part's name proves nothing.
            var type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t : default;
            bool textual = type.ValueKind == JsonValueKind.String && (type.ValueEquals("input_text") || type.ValueEquals("output_text"));
            if (textual && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                tally.AddString(text);
            }
            else if (type.ValueKind == JsonValueKind.String && type.ValueEquals("refusal") && part.TryGetProperty("refusal", out var refusal)
                && refusal.ValueKind == JsonValueKind.String)
            {
                tally.AddString(refusal);
            }
            else if (type.ValueKind == JsonValueKind.String && type.ValueEquals("input_image"))
            {
                bool low = part.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String && detail.ValueEquals("low");
                tally.Add(low ? ImageTokenCounter.BaseTokens
                    : part.TryGetProperty("image_url", out var url) ? ImageTokenCounter.Count(url) : ImageTokenCounter.MaxTokens);
            }
            else
            {
                tally.AddText(part.GetRawText());
            }

            if (tally.IsOver)
            {
                return;
            }
        }
    }
}
