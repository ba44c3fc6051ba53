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

    /// <summary>
    /// Longest one call to this upstream may take, from sending the request to the last byte of its answer (a
    /// stream included); null for no bound beyond the other timeouts. Before the headers the shorter of this and
    /// <see cref="ResponseTimeout"/> applies.
    /// </summary>
    public TimeSpan? TotalTimeout { get; set; }

    /// <summary>
    /// The provider's own quota for this upstream (requests and tokens per minute), reserved atomically with every
    /// other limit of a request; null for none.
    /// </summary>
    public UpstreamLimitsOptions? Limits { get; set; }

    /// <summary>A circuit breaker in front of this upstream; null for none.</summary>
    public CircuitBreakerOptions? CircuitBreaker { get; set; }

    /// <summary>Retries on this upstream of failures known to be unbilled; null for none.</summary>
    public RetryOptions? Retry { get; set; }

    /// <summary>
    /// How long an upstream 429 cools this upstream down: its <c>Retry-After</c> (1 s when it sends none), at most
    /// this. While it cools, requests go to a model's fallbacks or are refused without calling it. Zero (the
    /// default): a 429 is passed on and does not cool the upstream down.
    /// </summary>
    public TimeSpan MaxRetryWait { get; set; } = TimeSpan.Zero;

    /// <summary>Whether any resilience setting (breaker, retries, cool-down) is on for this upstream.</summary>
    public bool HasResilience => CircuitBreaker is not null || Retry is { MaxRetries: > 0 } || MaxRetryWait > TimeSpan.Zero;

    /// <summary>How a request is billed when its upstream outcome is unknown (see <see cref="UnknownOutcomeOptions"/>).</summary>
    public UnknownOutcomeOptions UnknownOutcomes { get; set; } = new();

    /// <summary>
    /// The <c>anthropic-version</c> sent upstream when the caller sent none (kind <c>anthropic</c>); a caller's own
    /// version is forwarded verbatim.
    /// </summary>
    public string AnthropicVersion { get; set; } = "2023-06-01";

    /// <summary>The <c>api-version</c> query parameter of every request to an upstream of kind <c>azure-openai</c>.</summary>
    public string AzureApiVersion { get; set; } = "2024-10-21";

    /// <summary>
    /// The APIs the upstream speaks itself (<see cref="UpstreamApis"/>: <c>chat</c>, <c>completions</c>,
    /// <c>embeddings</c>, <c>responses</c>, <c>messages</c>), or null (the default) for everything its kind speaks. An
    /// endpoint whose API is not listed is translated to one that is, when Tollgate has a translation (Messages and
    /// Responses to chat completions, chat completions to Messages), and refused otherwise: e.g. <c>["chat",
    /// "completions", "embeddings"]</c> for a vLLM or Ollama server that does not serve the Responses API.
    /// </summary>
    public List<string>? Apis { get; set; }

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

/// <summary>Valid values of <see cref="UpstreamOptions.Apis"/>, and the API of each endpoint.</summary>
public static class UpstreamApis
{
    /// <summary>OpenAI's chat completions.</summary>
    public const string Chat = "chat";

    /// <summary>OpenAI's legacy completions.</summary>
    public const string Completions = "completions";

    /// <summary>OpenAI's embeddings.</summary>
    public const string Embeddings = "embeddings";

    /// <summary>OpenAI's Responses API.</summary>
    public const string Responses = "responses";

    /// <summary>Anthropic's Messages API (count_tokens included).</summary>
    public const string Messages = "messages";

    /// <summary>Every valid name.</summary>
    public static IReadOnlyList<string> All { get; } = [Chat, Completions, Embeddings, Responses, Messages];

    /// <summary>The API <paramref name="endpoint"/> belongs to.</summary>
    public static string Of(Protocol.ApiEndpoint endpoint) => endpoint switch
    {
        Protocol.ApiEndpoint.ChatCompletions => Chat,
        Protocol.ApiEndpoint.Completions => Completions,
        Protocol.ApiEndpoint.Embeddings => Embeddings,
        Protocol.ApiEndpoint.Responses => Responses,
        _ => Messages,
    };

    /// <summary>Whether an upstream of <paramref name="options"/> speaks <paramref name="endpoint"/>'s API itself, as far as its <see cref="UpstreamOptions.Apis"/> say.</summary>
    public static bool Allows(UpstreamOptions options, Protocol.ApiEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Apis is not { } apis || apis.Contains(Of(endpoint), StringComparer.Ordinal);
    }
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

    /// <summary>
    /// Azure OpenAI: the <c>api-key</c> header, a model's <c>UpstreamModel</c> as the deployment in the path
    /// (<c>openai/deployments/{deployment}/chat/completions</c>), and <c>api-version</c> on every request.
    /// </summary>
    public const string AzureOpenAI = "azure-openai";
}
