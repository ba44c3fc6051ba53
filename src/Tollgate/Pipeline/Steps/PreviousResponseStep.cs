using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Responses;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 4b, for a Responses API request that continues a stored response (<c>previous_response_id</c>): only the key
/// that created it may continue it (any other gets the 404 of a response that does not exist), and the chain's hidden
/// input — what the ledger knows of it: the previous request's billed input plus output, capped at the model's context
/// window — is added to the counted input, so the reservation covers what the provider will bill.
/// </summary>
internal static class PreviousResponseStep
{
    public static async ValueTask<GatewayError?> RunAsync(RequestContext context)
    {
        var request = context.Request!;
        if (request.PreviousResponseId is not { } id)
        {
            return null;
        }

        var store = context.Http.RequestServices.GetRequiredService<IResponseOwnerStore>();
        var stored = await store.FindAsync(id, context.Http.RequestAborted).ConfigureAwait(false);
        if (stored is null || stored.KeyId != context.Caller?.KeyId)
        {
            return NotFound(id, "previous_response_id");
        }

        request.HiddenInputTokens = Math.Min(stored.ChainTokens, context.Model!.ContextWindow);
        return null;
    }

    /// <summary>The 404 of a stored response that does not exist, or that belongs to another key.</summary>
    public static GatewayError NotFound(string id, string? param) =>
        new(404, ErrorTypes.InvalidRequest, ErrorCodes.NotFound, $"Response with id '{Proxy.Display.Bounded(id, 80)}' not found.", param);
}
