using System.Buffers;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// An OpenAI chat completions caller (the OpenAI SDKs) in front of an upstream that speaks only Anthropic's Messages
/// (a Claude model): the request is written as a Messages request (<see cref="ChatToMessagesRequest"/>), the usage
/// read by the upstream's own side, and the answer written back as a chat completion
/// (<see cref="MessagesToChatAnswer"/>) or as chat chunks (<see cref="MessagesToChatStream"/>).
/// </summary>
/// <param name="upstream">The upstream's own side of Messages.</param>
/// <param name="time">The clock of the answers' <c>created</c> timestamps.</param>
internal sealed class ChatOverMessages(IUpstreamProtocol upstream, TimeProvider time)
    : TranslatingProtocol(upstream, ApiEndpoint.ChatCompletions, ApiEndpoint.Messages)
{
    /// <inheritdoc />
    protected override GatewayError? Check(ModelRequest request) => ChatToMessagesRequest.Check(request.Document.RootElement);

    /// <inheritdoc />
    protected override void Write(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output) =>
        ChatToMessagesRequest.Write(request, rewrite, output);

    /// <inheritdoc />
    protected override byte[] Answer(ReadOnlySpan<byte> upstreamBody, ModelRequest request, in TranslatedUsage usage) =>
        MessagesToChatAnswer.Write(upstreamBody, request, usage, time.GetUtcNow().ToUnixTimeSeconds());

    /// <inheritdoc />
    protected override IStreamTranslator Translator(ModelRequest request) => new MessagesToChatStream(request, time.GetUtcNow().ToUnixTimeSeconds());
}
