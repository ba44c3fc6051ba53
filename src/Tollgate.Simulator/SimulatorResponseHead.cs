namespace Tollgate.Simulator;

/// <summary>The status line and headers of a simulated response.</summary>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="ContentType"><c>application/json</c> or <c>text/event-stream</c>.</param>
/// <param name="RequestId">The <c>x-request-id</c> header.</param>
/// <param name="RetryAfterSeconds">The <c>Retry-After</c> header, if any.</param>
/// <param name="ContentLength">The <c>Content-Length</c> header, if any. A cut response declares more than it sends,
/// so that over HTTP the client sees the body end early even though the connection closes gracefully.</param>
internal readonly record struct SimulatorResponseHead(
    int StatusCode,
    string ContentType,
    string RequestId,
    int? RetryAfterSeconds = null,
    long? ContentLength = null)
{
    /// <summary>What a cut stream declares as its length: more than it will ever send.</summary>
    public const long CutStreamLength = 1 << 20;

    /// <summary>The JSON media type.</summary>
    public const string Json = "application/json";

    /// <summary>The server-sent events media type.</summary>
    public const string EventStream = "text/event-stream";

    /// <summary>The header carrying the simulator's request id.</summary>
    public const string RequestIdHeader = "x-request-id";

    /// <summary>The header carrying the gateway's request id.</summary>
    public const string ClientRequestIdHeader = "x-client-request-id";
}
