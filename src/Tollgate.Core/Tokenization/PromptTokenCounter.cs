using System.Text.Json;

namespace Tollgate.Tokenization;

/// <summary>
/// Counts the input tokens of a request body the way OpenAI's chat formatting bills them: 3 tokens of framing per
/// message, 1 per <c>name</c>, the tokens of every role, text (and refusal) part, tool call, tool definition and
/// structured output's schema (<c>response_format</c>), an
/// image by its size, any other part but a file by its JSON (which errs high), and 3 tokens priming the reply. A file
/// part is a document block, reserved apart (<see cref="Protocol.ModelRequest.DocumentBlocks"/>); an audio part is
/// refused before anything is counted. Parts are told apart by their <c>type</c>. The simulated upstream uses the same
/// count, so an estimate of a simulated call is exact (but for a file part's reservation, which it does not bill).
/// </summary>
/// <remarks>
/// Text is counted with <see cref="TokenCounter.CountUpTo(string?, long)"/>: exact for ordinary text, linear in the
/// body for every body. Each method takes a <c>stopAfter</c> cap (a plan's input cap): once the running count
/// passes it, counting stops and the partial count, greater than <c>stopAfter</c>, is returned — enough to refuse
/// the request without tokenizing the rest of it.
/// </remarks>
public static partial class PromptTokenCounter
{
    private const int TokensPerMessage = 3;
    private const int TokensPerName = 1;
    private const int ReplyPriming = 3;

    /// <summary>Input tokens of a chat request (its <c>messages</c> and <c>tools</c>/<c>functions</c>).</summary>
    /// <param name="body">The request body.</param>
    /// <param name="counter">The model's token counter.</param>
    /// <param name="stopAfter">Stop once the count passes this; the result is then greater than it.</param>
    public static long CountChat(JsonElement body, TokenCounter counter, long stopAfter = long.MaxValue)
    {
        var tally = new Tally(counter, stopAfter);
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                tally.Add(TokensPerMessage);
                CountMessage(message, ref tally);
                if (tally.IsOver)
                {
                    return tally.Total;
                }
            }

            tally.Add(ReplyPriming);
        }

        foreach (string definitions in (ReadOnlySpan<string>)["tools", "functions"])
        {
            if (body.TryGetProperty(definitions, out var tools) && tools.ValueKind == JsonValueKind.Array)
            {
                tally.AddText(tools.GetRawText());
            }
        }

        if (body.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object)
        {
            // A structured output's schema is put before the model, as tool definitions are: counted as its JSON.
            tally.AddText(format.GetRawText());
        }

        return tally.Total;
    }

    /// <summary>Input tokens of a legacy completion's <c>prompt</c> (a string or an array of strings) and its <c>suffix</c>.</summary>
    /// <param name="body">The request body.</param>
    /// <param name="counter">The model's token counter.</param>
    /// <param name="stopAfter">Stop once the count passes this; the result is then greater than it.</param>
    public static long CountPrompt(JsonElement body, TokenCounter counter, long stopAfter = long.MaxValue)
    {
        long prompt = CountTextOrArray(body, "prompt", counter, stopAfter);
        if (prompt > stopAfter || !body.TryGetProperty("suffix", out var suffix))
        {
            return prompt;
        }

        // The text after the insertion point is input too.
        var tally = new Tally(counter, stopAfter - prompt);
        tally.AddString(suffix);
        return prompt + tally.Total;
    }

    /// <summary>Input tokens of an embeddings <c>input</c> (a string, strings, or pre-tokenized arrays).</summary>
    /// <param name="body">The request body.</param>
    /// <param name="counter">The model's token counter.</param>
    /// <param name="stopAfter">Stop once the count passes this; the result is then greater than it.</param>
    public static long CountEmbeddingInput(JsonElement body, TokenCounter counter, long stopAfter = long.MaxValue) =>
        CountTextOrArray(body, "input", counter, stopAfter);

    private static void CountMessage(JsonElement message, ref Tally tally)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        // Names are compared as the body's UTF-8 bytes: no string per property.
        foreach (var property in message.EnumerateObject())
        {
            if (property.NameEquals("role"u8))
            {
                tally.AddRole(property.Value);
            }
            else if (property.NameEquals("content"u8))
            {
                CountContent(property.Value, ref tally);
            }
            else if (property.NameEquals("refusal"u8))
            {
                tally.AddString(property.Value);
            }
            else if (property.NameEquals("tool_call_id"u8))
            {
                tally.AddString(property.Value);
            }
            else if (property.NameEquals("name"u8))
            {
                tally.Add(TokensPerName);
                tally.AddString(property.Value);
            }
            else if (property.NameEquals("tool_calls"u8) || property.NameEquals("function_call"u8))
            {
                tally.AddText(property.Value.GetRawText());
            }

            if (tally.IsOver)
            {
                return;
            }
        }
    }

    private static void CountContent(JsonElement content, ref Tally tally)
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
            // By the part's type, as the upstream reads it: a member of another part's name proves nothing.
            switch (PartType(part))
            {
                case "text":
                    tally.AddString(part.GetProperty("text"));
                    break;
                case "refusal":
                    tally.AddString(part.GetProperty("refusal"));
                    break;
                case "image_url":
                    tally.Add(ImageTokenCounter.Count(part.GetProperty("image_url")));
                    break;
                case "file":
                    // A document block, reserved apart at the model's DocumentTokens (ModelRequest.DocumentBlocks).
                    break;
                default:
                    // A part of a kind not known here (or not well formed) is counted as its JSON, which errs high.
                    tally.AddText(part.GetRawText());
                    break;
            }

            if (tally.IsOver)
            {
                return;
            }
        }
    }

    // The part's type when it is one the count reads and its member is there (a string, for text); null otherwise.
    private static string? PartType(JsonElement part)
    {
        if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        if (type.ValueEquals("file"u8))
        {
            return "file";
        }

        if (type.ValueEquals("image_url"u8))
        {
            return part.TryGetProperty("image_url", out _) ? "image_url" : null;
        }

        if (type.ValueEquals("text"u8))
        {
            return HasString(part, "text") ? "text" : null;
        }

        return type.ValueEquals("refusal"u8) && HasString(part, "refusal") ? "refusal" : null;
    }

    private static bool HasString(JsonElement part, string name) => part.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String;

    private static long CountTextOrArray(JsonElement body, string property, TokenCounter counter, long stopAfter)
    {
        if (!body.TryGetProperty(property, out var value))
        {
            return 0;
        }

        var tally = new Tally(counter, stopAfter);
        if (value.ValueKind == JsonValueKind.String)
        {
            tally.AddString(value);
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                switch (item.ValueKind)
                {
                    case JsonValueKind.String:
                        tally.AddString(item);
                        break;
                    case JsonValueKind.Number:
                        tally.Add(1);
                        break;
                    case JsonValueKind.Array:
                        tally.Add(item.GetArrayLength());
                        break;
                    default:
                        break;
                }

                if (tally.IsOver)
                {
                    break;
                }
            }
        }

        return tally.Total;
    }

    /// <summary>The running count of one body, and the cap after which counting stops.</summary>
    private struct Tally(TokenCounter counter, long stopAfter)
    {
        public long Total { get; private set; }

        public readonly bool IsOver => Total > stopAfter;

        public void Add(long tokens) => Total += tokens;

        // Every message names its role, nearly always one of a few: their counts are worked out once per counter.
        public void AddRole(JsonElement value)
        {
            int known = value.ValueKind == JsonValueKind.String ? TokenCounter.KnownRole(value) : -1;
            if (known < 0)
            {
                AddString(value);
            }
            else if (!IsOver)
            {
                Total += counter.CountKnownRole(known);
            }
        }

        public void AddString(JsonElement value)
        {
            if (value.ValueKind == JsonValueKind.String && !IsOver)
            {
                Total += counter.CountUpTo(value, stopAfter - Total);
            }
        }

        // Only what is left under the cap is worth counting; CountUpTo returns more than that once it is over.
        public void AddText(string? text)
        {
            if (!IsOver)
            {
                Total += counter.CountUpTo(text, stopAfter - Total);
            }
        }
    }
}
