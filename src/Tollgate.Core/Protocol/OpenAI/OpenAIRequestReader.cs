using Tollgate.Tokenization;

namespace Tollgate.Protocol;

/// <summary>
/// Reads OpenAI's chat completions, legacy completions and embeddings requests (<see cref="ModelRequestParser"/>)
/// and counts their input as OpenAI bills it (<see cref="PromptTokenCounter"/>).
/// </summary>
public sealed class OpenAIRequestReader : IRequestReader
{
    private OpenAIRequestReader(ApiEndpoint endpoint) => Endpoint = endpoint;

    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    public static OpenAIRequestReader ChatCompletions { get; } = new(ApiEndpoint.ChatCompletions);

    /// <summary><c>POST /v1/completions</c>.</summary>
    public static OpenAIRequestReader Completions { get; } = new(ApiEndpoint.Completions);

    /// <summary><c>POST /v1/embeddings</c>.</summary>
    public static OpenAIRequestReader Embeddings { get; } = new(ApiEndpoint.Embeddings);

    /// <inheritdoc />
    public ApiEndpoint Endpoint { get; }

    /// <summary>The reader of <paramref name="endpoint"/>.</summary>
    public static OpenAIRequestReader For(ApiEndpoint endpoint) => endpoint switch
    {
        ApiEndpoint.ChatCompletions => ChatCompletions,
        ApiEndpoint.Completions => Completions,
        _ => Embeddings,
    };

    /// <inheritdoc />
    public bool TryRead(ReadOnlyMemory<byte> body, out ModelRequest? request, out GatewayError? refusal) =>
        ModelRequestParser.TryParse(body, Endpoint, out request, out refusal);

    /// <inheritdoc />
    public long CountInput(ModelRequest request, TokenCounter counter, long stopAfter)
    {
        var root = request.Document.RootElement;
        return Endpoint switch
        {
            ApiEndpoint.ChatCompletions => PromptTokenCounter.CountChat(root, counter, stopAfter),
            ApiEndpoint.Completions => PromptTokenCounter.CountPrompt(root, counter, stopAfter),
            _ => PromptTokenCounter.CountEmbeddingInput(root, counter, stopAfter),
        };
    }

    /// <inheritdoc />
    public void AppendInputText(ModelRequest request, InputTextBuffer text) => RequestText.Collect(request, text);
}
