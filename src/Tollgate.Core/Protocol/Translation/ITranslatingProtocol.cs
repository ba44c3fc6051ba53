using System.Buffers;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// The upstream side of a request whose caller speaks one protocol and whose upstream speaks another (Anthropic
/// Messages in front of an OpenAI-compatible model, an OpenAI caller in front of a Claude model). As an
/// <see cref="IUpstreamProtocol"/> it writes the upstream's body in the upstream's protocol and reads the upstream's
/// usage back; on top of that it turns the upstream's answers into the caller's protocol, whole or event by event.
/// </summary>
/// <remarks>
/// Policy never sees the difference: the request was read, counted and admitted in the caller's protocol, the bill
/// comes from the upstream's own usage, and errors (refusals, upstream failures, a cut stream) are written by the
/// caller's protocol as for any other request.
/// </remarks>
public interface ITranslatingProtocol : IUpstreamProtocol
{
    /// <summary>The endpoint the caller called (e.g. <see cref="ApiEndpoint.Messages"/>).</summary>
    ApiEndpoint CallerEndpoint { get; }

    /// <summary>The upstream's endpoint the request is sent to (e.g. <see cref="ApiEndpoint.ChatCompletions"/>).</summary>
    ApiEndpoint UpstreamEndpoint { get; }

    /// <summary>
    /// What of <paramref name="request"/> does not translate: a 400 naming the field (code
    /// <c>param_not_supported</c>), or null. Checked before anything is reserved.
    /// </summary>
    GatewayError? CheckTranslatable(ModelRequest request);

    /// <summary>
    /// A whole upstream answer (as <see cref="IUpstreamProtocol.ReadResponse"/> read it) in the caller's protocol,
    /// its usage the billed one with its cost.
    /// </summary>
    byte[] TranslateResponse(ReadOnlySpan<byte> upstreamBody, ModelRequest request, in TranslatedUsage usage);

    /// <summary>A new translator of one stream's events into the caller's protocol.</summary>
    IStreamTranslator OpenTranslator(ModelRequest request);
}

/// <summary>Turns one upstream stream's events, in order, into the caller's protocol (see <see cref="ITranslatingProtocol"/>).</summary>
public interface IStreamTranslator
{
    /// <summary>
    /// Writes what the upstream event <paramref name="data"/> (already read as <paramref name="scan"/>) becomes in
    /// the caller's protocol: zero or more whole SSE events, <c>event:</c> lines included where the caller's protocol
    /// names its events. Never called for the upstream's end marker, nor for an error event (the relay writes the
    /// caller protocol's own error event instead).
    /// </summary>
    void Translate(ReadOnlySpan<byte> data, in ResponseScan scan, IBufferWriter<byte> output);

    /// <summary>
    /// The stream ended complete: writes the caller protocol's closing events (with the billed usage and its cost)
    /// that come before its end marker, which the relay writes itself.
    /// </summary>
    void Finish(in TranslatedUsage usage, IBufferWriter<byte> output);
}

/// <summary>The bill a translated answer reports to its caller.</summary>
/// <param name="Usage">The billed usage.</param>
/// <param name="CostNanos">Its cost in nano-dollars.</param>
/// <param name="Estimated">Whether the upstream reported no (readable) usage and the bill is Tollgate's own count.</param>
public readonly record struct TranslatedUsage(Pricing.TokenUsage Usage, long CostNanos, bool Estimated);
