using System.Buffers;
using System.Text;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// A Messages caller (Claude Code, the Anthropic SDKs) in front of an upstream that speaks only OpenAI's chat
/// completions (vLLM, Ollama, OpenAI): the request is written as a chat request (<see cref="MessagesToChatRequest"/>),
/// the usage read by the upstream's own side, and the answer written back as a message
/// (<see cref="ChatToMessagesAnswer"/>) or as Messages stream events (<see cref="ChatToMessagesStream"/>).
/// </summary>
/// <param name="upstream">The upstream's own side of chat completions.</param>
internal sealed class MessagesOverChat(IUpstreamProtocol upstream) : ITranslatingProtocol
{
    /// <inheritdoc />
    public ApiEndpoint CallerEndpoint => ApiEndpoint.Messages;

    /// <inheritdoc />
    public ApiEndpoint UpstreamEndpoint => ApiEndpoint.ChatCompletions;

    /// <inheritdoc />
    public string PathFor(ApiEndpoint endpoint) => upstream.PathFor(ApiEndpoint.ChatCompletions);

    /// <inheritdoc />
    public GatewayError? CheckTranslatable(ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return MessagesToChatRequest.Check(request.Document.RootElement);
    }

    /// <inheritdoc />
    public void WriteRequest(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(request);
        MessagesToChatRequest.Write(request, rewrite, output);
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
        return ChatToMessagesAnswer.Write(upstreamBody, request, usage);
    }

    /// <inheritdoc />
    public IStreamTranslator OpenTranslator(ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new ChatToMessagesStream(request);
    }
}
