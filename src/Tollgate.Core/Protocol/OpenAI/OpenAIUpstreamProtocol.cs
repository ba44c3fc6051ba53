using System.Buffers;
using System.Text;

namespace Tollgate.Protocol;

/// <summary>
/// An upstream that speaks OpenAI's API (OpenAI, Azure OpenAI's v1 surface, vLLM, Ollama, the simulator): the body
/// goes as the caller sent it except the rewritten fields (<see cref="ModelRequestRewriter"/>), and usage is read
/// with <see cref="ResponseScanner"/>.
/// </summary>
public sealed class OpenAIUpstreamProtocol : IUpstreamProtocol
{
    /// <summary>The one instance (the protocol holds no state).</summary>
    public static OpenAIUpstreamProtocol Instance { get; } = new();

    /// <inheritdoc />
    public IUpstreamProtocol ForEndpoint(ApiEndpoint endpoint) =>
        endpoint == ApiEndpoint.Responses ? ResponsesUpstreamProtocol.Instance : this;

    /// <inheritdoc />
    public string PathFor(ApiEndpoint endpoint) => endpoint.RelativePath();

    /// <inheritdoc />
    public void WriteRequest(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output) =>
        ModelRequestRewriter.Write(request, rewrite.Model, rewrite.CapField, rewrite.Cap, output);

    /// <inheritdoc />
    public ResponseScan ReadResponse(ReadOnlySpan<byte> body, StringBuilder? generated) => ResponseScanner.Scan(body, generated);

    /// <inheritdoc />
    public ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated) => ResponseScanner.Scan(data, generated);

    /// <inheritdoc />
    public bool IsEndOfStream(ReadOnlySpan<byte> data) => data.SequenceEqual("[DONE]"u8);

    /// <inheritdoc />
    public bool CachesAnswers(ApiEndpoint endpoint) => endpoint is ApiEndpoint.ChatCompletions or ApiEndpoint.Completions or ApiEndpoint.Embeddings;

    /// <inheritdoc />
    public bool IsStorableAnswer(ApiEndpoint endpoint, ReadOnlySpan<byte> body) => OpenAIStoredAnswers.IsStorable(endpoint, body);

    /// <inheritdoc />
    public IStreamAnswerAssembler? AssembleStream(ApiEndpoint endpoint, int maxBytes) =>
        endpoint == ApiEndpoint.Embeddings ? null : new OpenAIStreamAssembler(endpoint == ApiEndpoint.ChatCompletions, maxBytes);
}
