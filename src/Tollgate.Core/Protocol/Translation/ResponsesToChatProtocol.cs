using System.Buffers;
using System.Text;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// OpenAI's Responses API (its stateless part) served by an upstream that speaks only chat completions (vLLM, Ollama,
/// any OpenAI-compatible server without <c>/v1/responses</c>): the request is written as a chat request
/// (<see cref="ResponsesChatRequest"/>), the upstream's usage read by its own chat side, and its answer written back as
/// a Responses object (<see cref="ChatAnswerToResponse"/>) or as Responses stream events
/// (<see cref="ChatStreamToResponses"/>). What needs state stored upstream, or a tool the caller does not run, is a
/// 400 <c>param_not_supported</c> (<see cref="ResponsesTranslationCheck"/>).
/// </summary>
public sealed class ResponsesToChatProtocol(IUpstreamProtocol chat) : ITranslatingProtocol
{
    /// <inheritdoc />
    public ApiEndpoint CallerEndpoint => ApiEndpoint.Responses;

    /// <inheritdoc />
    public ApiEndpoint UpstreamEndpoint => ApiEndpoint.ChatCompletions;

    /// <inheritdoc />
    public IReadOnlyList<string> ForwardedHeaders => chat.ForwardedHeaders;

    /// <inheritdoc />
    public string PathFor(ApiEndpoint endpoint) => chat.PathFor(ApiEndpoint.ChatCompletions);

    /// <inheritdoc />
    public void WriteRequest(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output) =>
        ResponsesChatRequest.Write(request, rewrite, output);

    /// <inheritdoc />
    public ResponseScan ReadResponse(ReadOnlySpan<byte> body, StringBuilder? generated) => chat.ReadResponse(body, generated);

    /// <inheritdoc />
    public ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated) => chat.ReadEvent(data, generated);

    /// <inheritdoc />
    public bool IsEndOfStream(ReadOnlySpan<byte> data) => chat.IsEndOfStream(data);

    /// <inheritdoc />
    public IUpstreamStreamReader OpenStream() => chat.OpenStream();

    /// <inheritdoc />
    public GatewayError? CheckTranslatable(ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ResponsesTranslationCheck.Check(request.Document.RootElement);
    }

    /// <inheritdoc />
    public byte[] TranslateResponse(ReadOnlySpan<byte> upstreamBody, ModelRequest request, in TranslatedUsage usage)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChatAnswerToResponse.Translate(upstreamBody, request, usage);
    }

    /// <inheritdoc />
    public IStreamTranslator OpenTranslator(ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new ChatStreamToResponses(request);
    }
}
