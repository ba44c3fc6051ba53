namespace Tollgate.Responses;

/// <summary>
/// What the gateway knows of a response stored upstream (Responses API): the key that created it — the only key that
/// may read, cancel, delete or continue it — and what its request billed, so that continuing it
/// (<c>previous_response_id</c>) can be reserved from the chain's hidden input.
/// </summary>
/// <param name="ResponseId">The upstream's id of the response (<c>resp_…</c>).</param>
/// <param name="KeyId">The key that created it.</param>
/// <param name="Model">The model's configured name (whose upstream holds it).</param>
/// <param name="InputTokens">The input its request was billed (the chain's input up to it).</param>
/// <param name="OutputTokens">The output its request was billed.</param>
/// <param name="CreatedAt">When it was recorded.</param>
public sealed record StoredResponse(string ResponseId, string KeyId, string Model, long InputTokens, long OutputTokens, DateTimeOffset CreatedAt)
{
    /// <summary>The hidden input of a request that continues this response: its input and its output.</summary>
    public long ChainTokens => Pricing.Saturating.Add(InputTokens, OutputTokens);
}
