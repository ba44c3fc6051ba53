using Tollgate.Configuration;
using Tollgate.Protocol;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 4: the model name (or alias) resolves to a configured model, its type fits the endpoint, and the caller's
/// plan includes it.
/// </summary>
internal static class AuthorizeStep
{
    public static GatewayError? Run(RequestContext context)
    {
        var request = context.Request!;
        if (!context.Config.TryGetModel(request.Model, out var model))
        {
            return new GatewayError(404, ErrorTypes.InvalidRequest, ErrorCodes.ModelNotFound,
                $"The model '{Proxy.Display.Bounded(request.Model)}' does not exist.", "model");
        }

        context.Model = model;
        bool embedding = model.Type == ModelTypes.Embedding;
        if (embedding != (request.Endpoint == ApiEndpoint.Embeddings))
        {
            return GatewayError.InvalidRequest(embedding
                ? $"The model '{model.Name}' is an embedding model; use /v1/embeddings."
                : $"The model '{model.Name}' does not produce embeddings.", "model");
        }

        if (!context.Config.IsAllowed(context.Caller!.Plan, model))
        {
            return new GatewayError(403, ErrorTypes.Permission, ErrorCodes.ModelNotAllowed,
                $"Your plan '{context.Caller.Plan}' does not include the model '{model.Name}'.", "model");
        }

        return null;
    }
}
