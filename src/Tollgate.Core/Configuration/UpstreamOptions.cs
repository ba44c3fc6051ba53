namespace Tollgate.Configuration;

/// <summary>One upstream provider.</summary>
public sealed class UpstreamOptions
{
    /// <summary>
    /// <c>openai</c> (any OpenAI-compatible base URL: OpenAI, vLLM, Ollama, a <c>tollgate simulate</c>), <c>anthropic</c>
    /// (Anthropic's Messages API, e.g. <c>https://api.anthropic.com/v1</c>) or <c>simulator</c> (in process, both).
    /// </summary>
    public string Kind { get; set; } = UpstreamKinds.OpenAI;

    /// <summary>
    /// The base URL, ending before <c>/chat/completions</c> or <c>/messages</c> (e.g. <c>https://api.openai.com/v1</c>,
    /// <c>https://api.anthropic.com/v1</c>). Required for <c>openai</c> and <c>anthropic</c>.
    /// </summary>
    public string? BaseUrl { get; set; }

    /// <summary>The name of the environment variable that holds the provider API key (never the key itself).</summary>
    public string? ApiKeyEnv { get; set; }

    /// <summary>Time allowed to open a connection.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time allowed until the response headers arrive.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Longest silence allowed between two reads of a response body (a stalled stream is cut after it).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How a request is billed when its upstream outcome is unknown (see <see cref="UnknownOutcomeOptions"/>).</summary>
    public UnknownOutcomeOptions UnknownOutcomes { get; set; } = new();

    /// <summary>
    /// The <c>anthropic-version</c> sent upstream when the caller sent none (kind <c>anthropic</c>); a caller's own
    /// version is forwarded verbatim.
    /// </summary>
    public string AnthropicVersion { get; set; } = "2023-06-01";

    /// <summary>Latency of the simulated model (kind <c>simulator</c> only).</summary>
    public SimulatorLatencyOptions Simulator { get; set; } = new();
}

/// <summary>Latency of the simulated upstream.</summary>
public sealed class SimulatorLatencyOptions
{
    /// <summary>Delay before the first token.</summary>
    public TimeSpan TimeToFirstToken { get; set; } = TimeSpan.Zero;

    /// <summary>Delay between two streamed tokens.</summary>
    public TimeSpan TimePerToken { get; set; } = TimeSpan.Zero;
}

/// <summary>Valid values of <see cref="UpstreamOptions.Kind"/>.</summary>
public static class UpstreamKinds
{
    /// <summary>Any OpenAI-compatible HTTP API.</summary>
    public const string OpenAI = "openai";

    /// <summary>The simulated model inside the gateway process.</summary>
    public const string Simulator = "simulator";

    /// <summary>Anthropic's Messages API (<c>x-api-key</c> and <c>anthropic-version</c> headers).</summary>
    public const string Anthropic = "anthropic";
}
