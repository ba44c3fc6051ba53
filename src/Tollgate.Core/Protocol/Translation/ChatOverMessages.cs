using System.Buffers;
using System.Text;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// An OpenAI chat completions caller (the OpenAI SDKs) in front of an upstream that speaks only Anthropic's Messages
/// (a Claude model): the request is written as a Messages request (<see cref="ChatToMessagesRequest"/>), the usage
/// read by the upstream's own side, and the answer written back as a chat completion
/// (<see cref="MessagesToChatAnswer"/>) or as chat chunks (<see cref="MessagesToChatStream"/>).
/// </summary>
/// <param name="upstream">The upstream's own side of Messages.</param>
/// <param name="time">The clock of the answers' <c>created</c> timestamps.</param>
internal sealed class ChatOverMessages(IUpstreamProtocol upstream, TimeProvider time) : ITranslatingProtocol
{
    /// <inheritdoc />
    public ApiEndpoint CallerEndpoint => ApiEndpoint.ChatCompletions;

    /// <inheritdoc />
    public ApiEndpoint UpstreamEndpoint => ApiEndpoint.Messages;

    /// <inheritdoc />
    public string PathFor(ApiEndpoint endpoint) => upstream.PathFor(ApiEndpoint.Messages);

    /// <inheritdoc />
    public GatewayError? CheckTranslatable(ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChatToMessagesRequest.Check(request.Document.RootElement);
    }

    /// <inheritdoc />
    public void WriteRequest(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(request);
        ChatToMessagesRequest.Write(request, rewrite, output);
    }

    /// <inheritdoc />
    public ResponseScan ReadResponse(ReadOnlySpan<byte> body, StringBuilder? generated) => upstream.ReadResponse(body, generated);

    /// <inheritdoc />
    public ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated) => upstream.ReadEvent(data, generated);

    /// <inheritdoc />
    public bool IsEndOfStream(ReadOnlySpan<byte> data) => upstream.IsEndOfStream(data);

    /// <inheritdoc />
    public IUpstreamStreamReader OpenStream() => upstream.OpenStream();

    /// <inheritdoc />
    public byte[] TranslateResponse(ReadOnlySpan<byte> upstreamBody, ModelRequest request, in TranslatedUsage usage)
    {
        ArgumentNullException.ThrowIfNull(request);
        return MessagesToChatAnswer.Write(upstreamBody, request, usage, time.GetUtcNow().ToUnixTimeSeconds());
    }

    /// <inheritdoc />
    public IStreamTranslator OpenTranslator(ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new MessagesToChatStream(request, time.GetUtcNow().ToUnixTimeSeconds());
    }
}
