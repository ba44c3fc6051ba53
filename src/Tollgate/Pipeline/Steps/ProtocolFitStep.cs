using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Protocols;
using Tollgate.Upstreams;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 4b, before anything is reserved: the model's upstream speaks the caller's protocol (a Messages request to an
/// upstream that speaks only OpenAI's API is a 400 naming the problem, until translation exists), document blocks are
/// refused unless the model prices them, and the endpoint's own header rules pass (Anthropic's price-changing betas:
/// <see cref="ProtocolEndpoint.CheckHeaders"/>).
/// </summary>
internal sealed class ProtocolFitStep(UpstreamClients upstreams)
{
    public GatewayError? Run(RequestContext context, ProtocolEndpoint endpoint)
    {
        var model = context.Model!;
        var options = context.Config.Options.Upstreams[model.UpstreamName];
        if (!upstreams.Serves(options, endpoint.Reader.Endpoint))
        {
            return Unserved(model, options, endpoint.Reader.Endpoint);
        }

        if (context.Request!.DocumentBlocks > 0 && model.DocumentTokens is null)
        {
            return DocumentsRefused(model.Name);
        }

        if (context.Request.Background && upstreams.ProtocolFor(options, endpoint.Reader.Endpoint) is Protocol.Translation.ITranslatingProtocol)
        {
            return BackgroundUnserved(model.Name);
        }

        return endpoint.CheckHeaders?.Invoke(context.Http.Request.Headers, model);
    }

    /// <summary>The refusal of a background response for a model whose upstream is reached through a translation (it stores nothing).</summary>
    public static GatewayError BackgroundUnserved(string model) => GatewayError.InvalidRequest(
        $"The model '{model}' is served through a translation to another API, which cannot run a response in the background; send it without 'background'.",
        "background", ErrorCodes.ParamNotSupported);

    /// <summary>The refusal of document blocks (PDFs) for a model whose configuration does not price them.</summary>
    public static GatewayError DocumentsRefused(string model) => GatewayError.InvalidRequest(
        $"The model '{model}' does not accept document blocks through this gateway: their tokens cannot be counted before they are billed (the operator can set the model's DocumentTokens).",
        "messages", ErrorCodes.ParamNotAllowed);

    /// <summary>The refusal of a request whose model's upstream does not speak its protocol.</summary>
    public static GatewayError Unserved(ModelDefinition model, UpstreamOptions options, ApiEndpoint endpoint) => GatewayError.InvalidRequest(
        endpoint.IsMessages()
            ? $"The model '{model.Name}' is served by an upstream of kind '{options.Kind}', which does not speak the Anthropic Messages API; use /v1/chat/completions for it, or a model whose upstream is of kind 'anthropic' or 'simulator'."
            : $"The model '{model.Name}' is served by an upstream of kind '{options.Kind}', which does not serve /v1/{endpoint.RelativePath()}; use /v1/messages for it.",
        "model", ErrorCodes.ProtocolNotSupported);
}
