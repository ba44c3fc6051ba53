namespace Tollgate.Configuration;

/// <summary>
/// The Prometheus endpoint. Metrics reveal spend, so they are served on their own listener (bind it to a private
/// interface) rather than next to the API.
/// </summary>
public sealed class MetricsOptions
{
    /// <summary>Whether <c>/metrics</c> is served.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The listener of <c>/metrics</c>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:9464";
}
