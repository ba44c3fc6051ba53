using System.Text.Json;

namespace Tollgate.Tokenization;

/// <summary>
/// Counts the input tokens of an Anthropic Messages request (<c>system</c>, <c>messages</c>, <c>tools</c>). Claude's
/// tokenizer is not shipped, so models declare the <c>approximate</c> encoding and the count carries its margin:
/// 3 tokens of framing per message and 3 priming the reply, every text, tool call (its name and input as JSON) and
/// tool result, the tool definitions as JSON plus the tool-use system prompt Anthropic adds when tools are offered,
/// and images by Anthropic's published rule. The simulated upstream uses the same count (without a margin).
/// </summary>
/// <remarks>
/// Images cost (width × height) / 750 tokens after Anthropic's resizing (the long edge to at most 1568 pixels, the area
/// to about 1.15 megapixels); when the size cannot be read (a URL or file source, an unreadable header) the most an
/// image can cost, <see cref="MaxImageTokens"/>, is counted. Non-text document blocks are counted by the caller of this
/// class (the model's configured <c>DocumentTokens</c> each): see <see cref="CountDocuments"/>.
/// </remarks>
public static class MessagesTokenCounter
{
    /// <summary>The most one image can cost, counted when its size is unknown.</summary>
    public const int MaxImageTokens = 1600;

    /// <summary>The tokens of the tool-use system prompt added when tools are offered (Claude 4 models, <c>auto</c>).</summary>
    public const int ToolUseSystemPromptTokens = 346;

    private const int TokensPerMessage = 3;
    private const int ReplyPriming = 3;
    private const double MaxLongEdge = 1568;
    private const double MaxPixels = 1_150_000;

    /// <summary>Input tokens of a Messages request body, document blocks aside.</summary>
    /// <param name="body">The request body.</param>
    /// <param name="counter">The model's token counter.</param>
    /// <param name="stopAfter">Stop once the count passes this; the result is then greater than it.</param>
    public static long Count(JsonElement body, TokenCounter counter, long stopAfter = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(counter);
        var tally = new Tally(counter, stopAfter);
        if (body.TryGetProperty("system", out var system))
        {
            CountContent(system, ref tally);
        }

        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                tally.Add(TokensPerMessage);
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                {
                    CountContent(content, ref tally);
                }

                if (tally.IsOver)
                {
                    return tally.Total;
                }
            }

            tally.Add(ReplyPriming);
        }

        if (body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
        {
            tally.Add(ToolUseSystemPromptTokens);
            tally.AddText(tools.GetRawText());
        }

        if (body.TryGetProperty("output_format", out var format) && format.ValueKind == JsonValueKind.Object)
        {
            // A structured output's schema is put before the model: counted as its JSON.
            tally.AddText(format.GetRawText());
        }

        return tally.Total;
    }

    /// <summary>The document blocks whose tokens cannot be counted (PDFs and other non-text sources), anywhere in the messages.</summary>
    public static int CountDocuments(JsonElement body)
    {
        int documents = 0;
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                {
                    documents += CountDocumentBlocks(content, depth: 0);
                }
            }
        }

        return documents;
    }

    /// <summary>Tokens of an image of <paramref name="width"/> × <paramref name="height"/> pixels, after Anthropic's resizing.</summary>
    public static int ImageTokens(int width, int height)
    {
        if (width <= 0 || height <= 0)
        {
            return MaxImageTokens;
        }

        double w = width, h = height;
        double scale = Math.Min(1.0, MaxLongEdge / Math.Max(w, h));
        w *= scale;
        h *= scale;
        if (w * h > MaxPixels)
        {
            double shrink = Math.Sqrt(MaxPixels / (w * h));
            w *= shrink;
            h *= shrink;
        }

        return (int)Math.Min(MaxImageTokens, Math.Ceiling(w * h / 750));
    }

    private static int CountDocumentBlocks(JsonElement content, int depth)
    {
        if (content.ValueKind != JsonValueKind.Array || depth > 2)
        {
            return 0;
        }

        int documents = 0;
        foreach (var block in content.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            if (type.ValueEquals("document") && !IsTextDocument(block))
            {
                documents++;
            }
            else if (type.ValueEquals("tool_result") && block.TryGetProperty("content", out var inner))
            {
                documents += CountDocumentBlocks(inner, depth + 1);
            }
        }

        return documents;
    }

    private static bool IsTextDocument(JsonElement block) =>
        block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object
        && source.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
        && (type.ValueEquals("text") || type.ValueEquals("content"));

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

        foreach (var block in content.EnumerateArray())
        {
            CountBlock(block, ref tally);
            if (tally.IsOver)
            {
                return;
            }
        }
    }

    private static void CountBlock(JsonElement block, ref Tally tally)
    {
        if (block.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        string? type = block.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "image":
                tally.Add(CountImage(block));
                break;
            case "tool_use":
            case "server_tool_use":
                tally.AddProperty(block, "name");
                if (block.TryGetProperty("input", out var input))
                {
                    tally.AddText(input.GetRawText());
                }

                break;
            case "tool_result":
                if (block.TryGetProperty("content", out var result))
                {
                    // Nested content is blocks of its own (text, images, documents), never deeper than one level.
                    if (result.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var inner in result.EnumerateArray())
                        {
                            if (!(inner.ValueKind == JsonValueKind.Object && inner.TryGetProperty("type", out var it) && it.ValueKind == JsonValueKind.String && it.ValueEquals("tool_result")))
                            {
                                CountBlock(inner, ref tally);
                            }
                        }
                    }
                    else
                    {
                        tally.AddString(result);
                    }
                }

                break;
            case "thinking":
                tally.AddProperty(block, "thinking");
                break;
            case "redacted_thinking":
                tally.AddProperty(block, "data");
                break;
            case "document":
                // A text document is counted as its text (and title and context); other documents by the model's setting.
                if (block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object)
                {
                    tally.AddProperty(source, "data");
                    if (source.TryGetProperty("content", out var documentContent))
                    {
                        CountContent(documentContent, ref tally);
                    }
                }

                tally.AddProperty(block, "title");
                tally.AddProperty(block, "context");
                break;
            case "text":
                tally.AddProperty(block, "text");
                break;
            default:
                // Search results, server tools' results sent back, MCP tool uses and blocks to come: the whole block as
                // JSON, which errs high (their content may be an object, and every member of it reaches the model).
                tally.AddText(block.GetRawText());
                break;
        }
    }

    private static int CountImage(JsonElement block)
    {
        if (block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object
            && source.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("base64")
            && source.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.String)
        {
            string base64 = data.GetString()!;
            if (ImageTokenCounter.TryReadBase64Dimensions(base64, out int width, out int height))
            {
                return ImageTokens(width, height);
            }
        }

        return MaxImageTokens;
    }

    /// <summary>The running count of one body, and the cap after which counting stops.</summary>
    private struct Tally(TokenCounter counter, long stopAfter)
    {
        public long Total { get; private set; }

        public readonly bool IsOver => Total > stopAfter;

        public void Add(long tokens) => Total = Pricing.Saturating.Add(Total, tokens);

        public void AddProperty(JsonElement value, string name)
        {
            if (value.TryGetProperty(name, out var property))
            {
                AddString(property);
            }
        }

        public void AddString(JsonElement value)
        {
            if (value.ValueKind == JsonValueKind.String && !IsOver)
            {
                Total += counter.CountUpTo(value, stopAfter - Total);
            }
        }

        public void AddText(string? text)
        {
            if (!IsOver)
            {
                Total += counter.CountUpTo(text, stopAfter - Total);
            }
        }
    }
}
