using System.Buffers;
using System.Text;

namespace Tollgate.Protocol;

/// <summary>
/// An upstream that speaks Anthropic's Messages API (Anthropic, the simulator): the body goes as the caller sent it
/// except the rewritten fields (<see cref="AnthropicRequestRewriter"/>), the caller's <c>anthropic-version</c> and
/// <c>anthropic-beta</c> go with it verbatim, and usage is read with <see cref="AnthropicResponseScanner"/> — in a
/// stream, the input half from <c>message_start</c> joined to the output from <c>message_delta</c>.
/// </summary>
public sealed class AnthropicUpstreamProtocol : IUpstreamProtocol
{
    /// <summary>The <c>anthropic-version</c> header.</summary>
    public const string VersionHeader = "anthropic-version";

    /// <summary>The <c>anthropic-beta</c> header.</summary>
    public const string BetaHeader = "anthropic-beta";

    private static readonly string[] s_forwarded = [VersionHeader, BetaHeader];

    /// <summary>The one instance (the protocol holds no state; a stream's state is in its <see cref="OpenStream"/>).</summary>
    public static AnthropicUpstreamProtocol Instance { get; } = new();

    /// <inheritdoc />
    public IReadOnlyList<string> ForwardedHeaders => s_forwarded;

    /// <inheritdoc />
    public string PathFor(ApiEndpoint endpoint) => endpoint.RelativePath();

    /// <inheritdoc />
    public void WriteRequest(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output) =>
        AnthropicRequestRewriter.Write(request, rewrite, output);

    /// <inheritdoc />
    public ResponseScan ReadResponse(ReadOnlySpan<byte> body, StringBuilder? generated) =>
        ToScan(AnthropicResponseScanner.Scan(body, generated), default);

    /// <inheritdoc />
    public ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated) =>
        ToScan(AnthropicResponseScanner.Scan(data, generated), default);

    /// <inheritdoc />
    public bool IsEndOfStream(ReadOnlySpan<byte> data) => AnthropicResponseScanner.Scan(data, null).Type == "message_stop";

    /// <inheritdoc />
    public IUpstreamStreamReader OpenStream() => new StreamReader();

    private static ResponseScan ToScan(in AnthropicScan scan, in AnthropicUsage earlier)
    {
        var result = new ResponseScan { Valid = scan.Valid, IsError = scan.IsError, Choices = -1, UsageEnd = -1 };
        if (!scan.HasUsage)
        {
            return result;
        }

        var usage = earlier.Then(scan.Usage);
        result.HasUsage = true;
        result.Usage = usage.ToTokenUsage(out bool malformed);
        result.UsageMalformed = malformed;
        result.HasInputCount = usage.Input is not null;
        result.HasOutputCount = usage.Output is not null;
        result.UsageEnd = scan.UsageEnd;
        result.UsageEmpty = scan.UsageEmpty;
        return result;
    }

    /// <summary>One stream: <c>message_start</c>'s usage is kept (and not yet billed) until <c>message_delta</c> completes it.</summary>
    private sealed class StreamReader : IUpstreamStreamReader
    {
        private AnthropicUsage _start;

        public ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated)
        {
            var scan = AnthropicResponseScanner.Scan(data, generated);
            if (scan.Type == "message_start")
            {
                _start = scan.HasUsage ? scan.Usage : default;
                return ToScan(scan with { HasUsage = false }, default);
            }

            return scan.Type == "message_delta" ? ToScan(scan, _start) : ToScan(scan with { HasUsage = false }, default);
        }

        public bool IsEndOfStream(ReadOnlySpan<byte> data) => AnthropicResponseScanner.Scan(data, null).Type == "message_stop";
    }
}
