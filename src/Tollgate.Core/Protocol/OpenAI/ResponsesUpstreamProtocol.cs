using System.Buffers;
using System.Text;

namespace Tollgate.Protocol;

/// <summary>
/// An upstream that speaks OpenAI's Responses API (OpenAI, the simulator): the body goes as the caller sent it except
/// the model, <c>max_output_tokens</c> and (for hosted tools) <c>max_tool_calls</c> (<see cref="ModelRequestRewriter"/>, which adds no <c>stream_options</c>:
/// the final event always carries the usage), and usage is read with <see cref="ResponsesScanner"/>. A Responses
/// stream ends when its final event has arrived and the connection closes; there is no <c>[DONE]</c>.
/// </summary>
public sealed class ResponsesUpstreamProtocol : IUpstreamProtocol
{
    /// <summary>The one instance (the protocol holds no state).</summary>
    public static ResponsesUpstreamProtocol Instance { get; } = new();

    /// <inheritdoc />
    public string PathFor(ApiEndpoint endpoint) => endpoint.RelativePath();

    /// <inheritdoc />
    public void WriteRequest(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output) =>
        ModelRequestRewriter.Write(request, rewrite.Model, rewrite.CapField, rewrite.Cap, output, rewrite.ToolCallCap);

    /// <inheritdoc />
    public ResponseScan ReadResponse(ReadOnlySpan<byte> body, StringBuilder? generated) => ResponsesScanner.ScanResponse(body, generated);

    /// <inheritdoc />
    public ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated) => ResponsesScanner.ScanEvent(data, generated);

    /// <inheritdoc />
    public bool IsEndOfStream(ReadOnlySpan<byte> data) => data.SequenceEqual("[DONE]"u8);
}
