using System.Buffers;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// OpenAI's Responses API (its stateless part) served by an upstream that speaks only chat completions (vLLM, Ollama,
/// any OpenAI-compatible server without <c>/v1/responses</c>): the request is written as a chat request
/// (<see cref="ResponsesChatRequest"/>), the upstream's usage read by its own chat side, and its answer written back as
/// a Responses object (<see cref="ChatAnswerToResponse"/>) or as Responses stream events
/// (<see cref="ChatStreamToResponses"/>). What needs state stored upstream, or a tool the caller does not run, is a
/// 400 <c>param_not_supported</c> (<see cref="ResponsesTranslationCheck"/>).
/// </summary>
/// <param name="chat">The upstream's own side of chat completions.</param>
public sealed class ResponsesToChatProtocol(IUpstreamProtocol chat)
    : TranslatingProtocol(chat, ApiEndpoint.Responses, ApiEndpoint.ChatCompletions)
{
    /// <inheritdoc />
    public override IReadOnlyList<string> ForwardedHeaders => Upstream.ForwardedHeaders;

    /// <inheritdoc />
    protected override GatewayError? Check(ModelRequest request) => ResponsesTranslationCheck.Check(request.Document.RootElement);

    /// <inheritdoc />
    protected override void Write(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output) =>
        ResponsesChatRequest.Write(request, rewrite, output);

    /// <inheritdoc />
    protected override byte[] Answer(ReadOnlySpan<byte> upstreamBody, ModelRequest request, in TranslatedUsage usage) =>
        ChatAnswerToResponse.Translate(upstreamBody, request, usage);

    /// <inheritdoc />
    protected override IStreamTranslator Translator(ModelRequest request) => new ChatStreamToResponses(request);
}
