namespace Tollgate.Configuration;

/// <summary>Request handling at the edge.</summary>
public sealed class GatewayOptions
{
    /// <summary>Largest accepted request body; larger ones get 413 before the body is read whole.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest non-streamed upstream response the gateway reads (a larger one is a 502).</summary>
    public long MaxResponseBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>How long the gateway keeps reading an upstream stream after its caller left, to learn the billed usage.</summary>
    public TimeSpan AbandonedStreamUsageWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Once a stream's 200 went out, the longest the caller waits without a byte: when the upstream is silent this
    /// long (a long time to first token), the gateway sends a keep-alive in the caller's protocol (an SSE comment,
    /// <c>: keep-alive</c>). Zero turns keep-alives off.
    /// </summary>
    public TimeSpan StreamKeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often the gateway polls the upstream for a background response (Responses API) that is still running, to
    /// settle its reservation when it ends even if its caller never polls.
    /// </summary>
    public TimeSpan BackgroundPollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest a background response may hold its reservation: past it the gateway cancels it upstream and bills
    /// what the cancel reports, or, without usage, by the upstream's <c>UnknownOutcomes:BackgroundUnsettled</c> rule.
    /// </summary>
    public TimeSpan BackgroundMaxLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>On SIGTERM, how long in-flight requests may take to finish before they are cut and settled.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests that may wait for a slot when <c>Global:MaxConcurrentRequests</c> are in flight (0: none wait; a request over it gets 503 <c>overloaded</c>).</summary>
    public int QueueLength { get; set; } = 256;

    /// <summary>The longest a request waits for a slot before it gets 503 <c>overloaded</c>.</summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Load thresholds at which the gateway stops taking on more concurrent work.</summary>
    public SheddingOptions Shedding { get; set; } = new();
}
