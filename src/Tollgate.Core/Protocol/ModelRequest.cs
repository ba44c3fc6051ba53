using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// A parsed, type-checked model request: the fields policy reads, and the document it came from (rewritten and
/// forwarded later). Owns the pooled <see cref="JsonDocument"/>; dispose it when the request ends.
/// </summary>
public sealed class ModelRequest : IDisposable
{
    internal ModelRequest(ApiEndpoint endpoint, JsonDocument document, string model, bool stream, bool includeUsage,
        long? maxTokens, long? maxCompletionTokens, int n)
    {
        Endpoint = endpoint;
        Document = document;
        Model = model;
        Stream = stream;
        IncludeUsage = includeUsage;
        MaxTokens = maxTokens;
        MaxCompletionTokens = maxCompletionTokens;
        N = n;
    }

    /// <summary>The reader that parsed it: it knows which parts of the body are input to count and text to inspect.</summary>
    public IRequestReader Reader { get; internal init; } = null!;

    /// <summary>The body as the caller sent it (the document's values point into it).</summary>
    public ReadOnlyMemory<byte> Body { get; internal init; }

    /// <summary>The size of the body as the caller sent it, in bytes.</summary>
    public int Size => Body.Length;

    /// <summary>Which endpoint it was sent to.</summary>
    public ApiEndpoint Endpoint { get; }

    /// <summary>The whole body.</summary>
    public JsonDocument Document { get; }

    /// <summary>The model the caller named.</summary>
    public string Model { get; }

    /// <summary>Whether the caller asked for a stream.</summary>
    public bool Stream { get; }

    /// <summary>Whether the caller asked for the usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; }

    /// <summary><c>max_tokens</c>, when present.</summary>
    public long? MaxTokens { get; }

    /// <summary><c>max_completion_tokens</c>, when present.</summary>
    public long? MaxCompletionTokens { get; }

    /// <summary>Choices requested (<c>n</c>, default 1).</summary>
    public int N { get; }

    /// <summary>Candidates generated per prompt by a legacy completion (<c>best_of</c>, default 1); each is billed.</summary>
    public int BestOf { get; internal init; } = 1;

    /// <summary>Whether a Responses request asks to run in the background (<c>background: true</c>): answered at once, polled to its end.</summary>
    public bool Background { get; internal init; }

    /// <summary>Whether token log-probabilities are requested (<c>logprobs</c>, <c>top_logprobs</c>).</summary>
    public bool WantsLogprobs { get; internal init; }

    /// <summary>Whether <c>logit_bias</c> is set.</summary>
    public bool HasLogitBias { get; internal init; }

    /// <summary>The prompt-cache writes the request asks for (Anthropic's <c>cache_control</c> breakpoints).</summary>
    public Pricing.CacheWrites CacheWrites { get; internal init; }

    /// <summary>Document blocks whose tokens cannot be counted (PDFs): each is reserved at the model's <c>DocumentTokens</c>.</summary>
    public int DocumentBlocks { get; internal init; }

    /// <summary>Anthropic's <c>thinking.budget_tokens</c>, when extended thinking is enabled.</summary>
    public long? ThinkingBudget { get; internal init; }

    /// <summary>
    /// The smallest output cap the request can run with: 1, or above the smallest thinking budget when extended
    /// thinking is enabled (the budget must stay below the cap).
    /// </summary>
    public long MinOutputCap => ThinkingBudget is null ? 1 : AnthropicRequestReader.MinThinkingBudget + 1;

    /// <summary>The stored response a Responses API request continues (<c>previous_response_id</c>), or null.</summary>
    public string? PreviousResponseId { get; internal init; }

    /// <summary>
    /// Input the request carries that is not in its body (the stored chain a <c>previous_response_id</c> continues), as
    /// the gateway knows it; added to the counted input. Set by the host before admission.
    /// </summary>
    public long HiddenInputTokens { get; set; }

    /// <summary>Whether a Responses API request continues a stored conversation (<c>conversation</c>): input the gateway cannot see.</summary>
    public bool HasConversation { get; internal init; }

    /// <summary>Whether a Responses API request uses a stored prompt template (<c>prompt</c>): input (and tools) the gateway cannot see.</summary>
    public bool HasStoredPrompt { get; internal init; }

    /// <summary>Whether part of the input is stored upstream out of the gateway's sight (a conversation or a stored prompt).</summary>
    public bool HasUnseenInput => HasConversation || HasStoredPrompt;

    /// <summary>The hosted tools a Responses API request offers (each type once, in order), whose calls the provider charges a fee for.</summary>
    public IReadOnlyList<HostedToolUse> HostedTools { get; internal init; } = [];

    /// <summary>The request's <c>max_tool_calls</c>, when present.</summary>
    public long? MaxToolCalls { get; internal init; }

    /// <summary>The name of the field <see cref="MaxTokens"/> came from (<c>max_output_tokens</c> for the Responses API).</summary>
    public string MaxTokensField { get; internal init; } = "max_tokens";

    /// <summary>The name of the output cap field the caller used (<c>max_completion_tokens</c> or <c>max_tokens</c>), or null.</summary>
    public string? OutputCapField => MaxCompletionTokens is not null ? "max_completion_tokens" : MaxTokens is not null ? MaxTokensField : null;

    /// <summary>Output tokens per unit of output cap: every choice (and every best_of candidate) is billed.</summary>
    public long OutputMultiplier => Endpoint == ApiEndpoint.Embeddings ? 0 : Math.Max(N, BestOf);

    /// <summary>The input tokens as the provider bills them; counting may stop once past <paramref name="stopAfter"/>.</summary>
    public long CountInput(Tokenization.TokenCounter counter, long stopAfter = long.MaxValue) => Reader.CountInput(this, counter, stopAfter);

    /// <summary>The text the caller sent, for input checks, at most <paramref name="maxChars"/> characters.</summary>
    public string InputText(int maxChars = InputTextBuffer.DefaultMaxChars)
    {
        using var text = new InputTextBuffer(maxChars);
        AppendInputText(text);
        return text.ToString();
    }

    /// <summary>Appends the text the caller sent, for input checks, to <paramref name="text"/>.</summary>
    public void AppendInputText(InputTextBuffer text) => Reader.AppendInputText(this, text);

    /// <inheritdoc />
    public void Dispose() => Document.Dispose();
}
