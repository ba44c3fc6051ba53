namespace Tollgate.Simulator;

/// <summary>What the simulated provider charged for one request: the truth the gateway's accounting is tested against.</summary>
/// <param name="ClientRequestId">The gateway's id for the call (the <c>x-client-request-id</c> request header), if sent.</param>
/// <param name="UpstreamRequestId">The simulator's own id, also sent back as the <c>x-request-id</c> response header.</param>
/// <param name="Endpoint"><c>chat/completions</c>, <c>completions</c>, <c>embeddings</c> or <c>messages</c>.</param>
/// <param name="Model">The <c>model</c> of the request.</param>
/// <param name="Stream">Whether the response was streamed.</param>
/// <param name="PromptTokens">Input tokens, counted exactly as <see cref="Tollgate.Tokenization.PromptTokenCounter"/> counts them.</param>
/// <param name="CachedTokens">How many of <paramref name="PromptTokens"/> were reported as cached.</param>
/// <param name="CompletionTokens">Output tokens, reasoning included.</param>
/// <param name="ReasoningTokens">How many of <paramref name="CompletionTokens"/> were reasoning.</param>
/// <param name="Fault">The misbehaviours that applied, comma-separated (<c>cut</c>, <c>no_usage</c>, <c>ignore_max_tokens</c>, <c>hang</c>), or null.</param>
/// <param name="Completed">Whether the whole generation reached the client: false when the response was cut or the client left before its last token.</param>
/// <param name="CacheWrite5mTokens">How many of <paramref name="PromptTokens"/> were reported as written to the cache for five minutes (Messages).</param>
/// <param name="CacheWrite1hTokens">How many of <paramref name="PromptTokens"/> were reported as written to the cache for an hour (Messages).</param>
/// <param name="ToolCalls">Hosted tool calls made (Responses API output items such as <c>web_search_call</c>), each charged its fee.</param>
public sealed record SimulatorBill(
    string? ClientRequestId,
    string UpstreamRequestId,
    string Endpoint,
    string Model,
    bool Stream,
    long PromptTokens,
    long CachedTokens,
    long CompletionTokens,
    long ReasoningTokens,
    string? Fault,
    bool Completed,
    long CacheWrite5mTokens = 0,
    long CacheWrite1hTokens = 0,
    long ToolCalls = 0);
