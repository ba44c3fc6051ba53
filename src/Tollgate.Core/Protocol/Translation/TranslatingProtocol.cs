using System.Buffers;
using System.Text;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// What every translation shares: the upstream's own side of its protocol reads the usage of answers and events and
/// names the path, and the translation supplies the four parts that differ — what does not translate, the request in
/// the upstream's protocol, and the answer and stream events back in the caller's.
/// </summary>
/// <param name="upstream">The upstream's own side of <paramref name="upstreamEndpoint"/>'s protocol.</param>
/// <param name="callerEndpoint">The endpoint the caller called.</param>
/// <param name="upstreamEndpoint">The upstream's endpoint the request is sent to.</param>
public abstract class TranslatingProtocol(IUpstreamProtocol upstream, ApiEndpoint callerEndpoint, ApiEndpoint upstreamEndpoint) : ITranslatingProtocol
{
    /// <summary>The upstream's own side of its protocol.</summary>
    protected IUpstreamProtocol Upstream { get; } = upstream ?? throw new ArgumentNullException(nameof(upstream));

    /// <inheritdoc />
    public ApiEndpoint CallerEndpoint { get; } = callerEndpoint;

    /// <inheritdoc />
    public ApiEndpoint UpstreamEndpoint { get; } = upstreamEndpoint;

    /// <inheritdoc />
    public virtual IReadOnlyList<string> ForwardedHeaders => [];

    /// <inheritdoc />
    public string PathFor(ApiEndpoint endpoint) => Upstream.PathFor(UpstreamEndpoint);

    /// <inheritdoc />
    public ResponseScan ReadResponse(ReadOnlySpan<byte> body, StringBuilder? generated) => Upstream.ReadResponse(body, generated);

    /// <inheritdoc />
    public ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated) => Upstream.ReadEvent(data, generated);

    /// <inheritdoc />
    public bool IsEndOfStream(ReadOnlySpan<byte> data) => Upstream.IsEndOfStream(data);

    /// <inheritdoc />
    public IUpstreamStreamReader OpenStream() => Upstream.OpenStream();

    /// <inheritdoc />
    public GatewayError? CheckTranslatable(ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Check(request);
    }

    /// <inheritdoc />
    public void WriteRequest(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(request);
        Write(request, rewrite, output);
    }

    /// <inheritdoc />
    public byte[] TranslateResponse(ReadOnlySpan<byte> upstreamBody, ModelRequest request, in TranslatedUsage usage)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Answer(upstreamBody, request, usage);
    }

    /// <inheritdoc />
    public IStreamTranslator OpenTranslator(ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translator(request);
    }

    /// <summary>What of the request does not translate (a 400 naming the field), or null.</summary>
    protected abstract GatewayError? Check(ModelRequest request);

    /// <summary>Writes the request in the upstream's protocol.</summary>
    protected abstract void Write(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output);

    /// <summary>A whole upstream answer in the caller's protocol.</summary>
    protected abstract byte[] Answer(ReadOnlySpan<byte> upstreamBody, ModelRequest request, in TranslatedUsage usage);

    /// <summary>A new translator of one stream's events into the caller's protocol.</summary>
    protected abstract IStreamTranslator Translator(ModelRequest request);
}
