using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Protocols.Anthropic;
using Tollgate.Protocols.OpenAI;

namespace Tollgate.Protocols;

/// <summary>
/// A model endpoint as the pipeline sees it: the name it is audited under, the reader of its requests and the
/// writer of its answers. Mapping a route to one of these is all a protocol needs from the endpoint layer.
/// </summary>
/// <param name="AuditName">The audit and metrics name, e.g. <c>chat.completions</c>.</param>
/// <param name="Reader">Reads its requests (Core).</param>
/// <param name="Caller">Writes its answers.</param>
internal sealed record ProtocolEndpoint(string AuditName, IRequestReader Reader, ICallerProtocol Caller)
{
    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    public static ProtocolEndpoint OpenAIChatCompletions { get; } = new("chat.completions", OpenAIRequestReader.ChatCompletions, OpenAICallerProtocol.Instance);

    /// <summary><c>POST /v1/completions</c>.</summary>
    public static ProtocolEndpoint OpenAICompletions { get; } = new("completions", OpenAIRequestReader.Completions, OpenAICallerProtocol.Instance);

    /// <summary><c>POST /v1/embeddings</c>.</summary>
    public static ProtocolEndpoint OpenAIEmbeddings { get; } = new("embeddings", OpenAIRequestReader.Embeddings, OpenAICallerProtocol.Instance);

    /// <summary><c>POST /v1/messages</c> (Anthropic Messages).</summary>
    public static ProtocolEndpoint AnthropicMessages { get; } = new("messages", AnthropicRequestReader.Messages, AnthropicCallerProtocol.Instance)
    {
        CheckHeaders = AnthropicBetas.Check,
    };

    /// <summary><c>POST /v1/messages/count_tokens</c> (Anthropic Messages).</summary>
    public static ProtocolEndpoint AnthropicCountTokens { get; } = new("messages.count_tokens", AnthropicRequestReader.CountTokens, AnthropicCallerProtocol.Instance);

    /// <summary><c>POST /v1/responses</c> (OpenAI's Responses API).</summary>
    public static ProtocolEndpoint OpenAIResponses { get; } = new("responses", ResponsesRequestReader.Instance, ResponsesCallerProtocol.Instance);

    /// <summary>The routes that need only an identity (the model list, an unknown route): OpenAI's error shape.</summary>
    public static ICallerProtocol Default => OpenAICallerProtocol.Instance;

    /// <summary>The endpoint's rules on request headers, checked once the model is known (null: none).</summary>
    public Func<IHeaderDictionary, ModelDefinition, GatewayError?>? CheckHeaders { get; init; }
}
