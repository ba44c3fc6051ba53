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

    /// <summary>On SIGTERM, how long in-flight requests may take to finish before they are cut and settled.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
