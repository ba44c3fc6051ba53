using Tollgate.Limits;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Protocols;

/// <summary>
/// The caller side of a protocol, writing: every answer the gateway itself gives a caller — refusals and errors (as a
/// response, or as the final event of a stream that already started), the caller's limits, the cost added to an
/// answer, and the usage event Tollgate writes when the upstream reported none. Reading is the Core's
/// <see cref="IRequestReader"/>; the two together are what a new protocol adds.
/// </summary>
internal interface ICallerProtocol
{
    /// <summary>The content type of this protocol's streams.</summary>
    string StreamContentType { get; }

    /// <summary>The bytes that end a successful stream (OpenAI's <c>data: [DONE]</c>).</summary>
    ReadOnlyMemory<byte> EndOfStream { get; }

    /// <summary>
    /// What keeps a started stream alive while the upstream is silent (a long time to first token), without changing
    /// what the caller reads: OpenAI's is an SSE comment line, <c>: keep-alive</c>.
    /// </summary>
    ReadOnlyMemory<byte> KeepAlive { get; }

    /// <summary>Writes <paramref name="error"/> as the whole response: status, headers and body.</summary>
    Task WriteErrorAsync(HttpContext http, GatewayError error);

    /// <summary>An error after a stream's 200 went out, as the stream's final event.</summary>
    ReadOnlyMemory<byte> ErrorEvent(GatewayError error);

    /// <summary>The caller's own limits (and any budget warning) on an admitted response.</summary>
    void WriteLimits(IHeaderDictionary headers, IReadOnlyList<LimitStatus> statuses, string? warning);

    /// <summary>A whole response body (as <paramref name="scan"/> read it) with the request's cost added to its usage.</summary>
    ReadOnlyMemory<byte> WithCost(ReadOnlySpan<byte> body, in ResponseScan scan, long costNanos);

    /// <summary>
    /// A stored answer (the response cache's plain form) replayed as this protocol's stream, without the end of the
    /// stream: its events, and the usage event with <paramref name="costNanos"/> when the caller asked for usage. Only
    /// called for endpoints whose upstream side caches answers (<see cref="IUpstreamProtocol.CachesAnswers"/>); a
    /// protocol that has none does not implement it.
    /// </summary>
    ReadOnlyMemory<byte> CachedStream(ModelRequest request, ReadOnlySpan<byte> answer, long costNanos) =>
        throw new NotSupportedException("This protocol's answers are not cached, so none is replayed.");

    /// <summary>
    /// The stream event that carries the upstream's usage, as relayed to the caller: with the cost when the caller
    /// asked for usage, or empty to drop it.
    /// </summary>
    ReadOnlyMemory<byte> UsageEvent(ModelRequest request, ReadOnlySpan<byte> data, in ResponseScan scan, long costNanos);

    /// <summary>Tollgate's own usage event, marked estimated, for a stream whose upstream reported none.</summary>
    ReadOnlyMemory<byte> EstimatedUsageEvent(in EstimatedUsage usage);
}

/// <summary>What an estimated-usage event reports.</summary>
/// <param name="RequestId">The gateway's request id.</param>
/// <param name="Endpoint">The endpoint the request came to.</param>
/// <param name="Model">The model's configured name.</param>
/// <param name="Usage">The billed usage.</param>
/// <param name="CostNanos">The billed cost.</param>
/// <param name="FinalEvent">
/// The data of the upstream's final event when it carried no readable usage and the caller's protocol puts the usage
/// on that event (the Responses API), held back to be sent with the estimate; empty otherwise.
/// </param>
internal readonly record struct EstimatedUsage(string RequestId, ApiEndpoint Endpoint, string Model, TokenUsage Usage, long CostNanos,
    ReadOnlyMemory<byte> FinalEvent = default);
