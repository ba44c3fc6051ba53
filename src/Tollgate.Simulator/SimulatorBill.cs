namespace Tollgate.Simulator;

/// <summary>What the simulated provider charged for one request: the truth the gateway's accounting is tested against.</summary>
/// <param name="ClientRequestId">The gateway's id for the call (the <c>x-client-request-id</c> request header), if sent.</param>
/// <param name="UpstreamRequestId">The simulator's own id, also sent back as the <c>x-request-id</c> response header.</param>
/// <param name="Endpoint"><c>chat/completions</c>, <c>completions</c> or <c>embeddings</c>.</param>
/// <param name="Model">The <c>model</c> of the request.</param>
/// <param name="Stream">Whether the response was streamed.</param>
/// <param name="PromptTokens">Input tokens, counted exactly as <see cref="Tollgate.Tokenization.PromptTokenCounter"/> counts them.</param>
/// <param name="CachedTokens">How many of <paramref name="PromptTokens"/> were reported as cached.</param>
/// <param name="CompletionTokens">Output tokens, reasoning included.</param>
/// <param name="ReasoningTokens">How many of <paramref name="CompletionTokens"/> were reasoning.</param>
/// <param name="Fault">The misbehaviours that applied, comma-separated (<c>cut</c>, <c>no_usage</c>, <c>ignore_max_tokens</c>, <c>hang</c>), or null.</param>
/// <param name="Completed">Whether the whole generation reached the client: false when the response was cut or the client left before its last token.</param>
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
    bool Completed);
