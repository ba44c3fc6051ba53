using System.Buffers;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// A Messages caller (Claude Code, the Anthropic SDKs) in front of an upstream that speaks only OpenAI's chat
/// completions (vLLM, Ollama, OpenAI): the request is written as a chat request (<see cref="MessagesToChatRequest"/>),
/// the usage read by the upstream's own side, and the answer written back as a message
/// (<see cref="ChatToMessagesAnswer"/>) or as Messages stream events (<see cref="ChatToMessagesStream"/>).
/// </summary>
/// <param name="upstream">The upstream's own side of chat completions.</param>
internal sealed class MessagesOverChat(IUpstreamProtocol upstream)
    : TranslatingProtocol(upstream, ApiEndpoint.Messages, ApiEndpoint.ChatCompletions)
{
    /// <inheritdoc />
    protected override GatewayError? Check(ModelRequest request) => MessagesToChatRequest.Check(request.Document.RootElement);

    /// <inheritdoc />
    protected override void Write(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output) =>
        MessagesToChatRequest.Write(request, rewrite, output);

    /// <inheritdoc />
    protected override byte[] Answer(ReadOnlySpan<byte> upstreamBody, ModelRequest request, in TranslatedUsage usage) =>
        ChatToMessagesAnswer.Write(upstreamBody, request, usage);

    /// <inheritdoc />
    protected override IStreamTranslator Translator(ModelRequest request) => new ChatToMessagesStream(request);
}
