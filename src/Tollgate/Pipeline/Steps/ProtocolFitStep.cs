using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;
using Tollgate.Protocols;
using Tollgate.Upstreams;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 4b, before anything is reserved: the model's upstream speaks the caller's protocol, or Tollgate translates it to
/// one the upstream speaks and everything the request asks for translates (else a 400 naming the field), document blocks are
/// refused unless the model prices them, and the endpoint's own header rules pass (Anthropic's price-changing betas:
/// <see cref="ProtocolEndpoint.CheckHeaders"/>).
/// </summary>
internal sealed class ProtocolFitStep(UpstreamClients upstreams)
{
    public GatewayError? Run(RequestContext context, ProtocolEndpoint endpoint)
    {
        var model = context.Model!;
        var options = context.Config.Options.Upstreams[model.UpstreamName];
        var protocol = upstreams.ProtocolFor(options, endpoint.Reader.Endpoint);
        if (protocol is null)
        {
            return Unserved(model, options, endpoint.Reader.Endpoint);
        }

        if (protocol is ITranslatingProtocol translated && translated.CheckTranslatable(context.Request!) is { } untranslatable)
        {
            // A field with no equivalent in the upstream's protocol: refused before anything is reserved.
            return untranslatable;
        }

        if (context.Request!.DocumentBlocks > 0 && model.DocumentTokens is null)
        {
            return DocumentsRefused(model.Name);
        }

        return endpoint.CheckHeaders?.Invoke(context.Http.Request.Headers, model);
    }

    /// <summary>The refusal of document blocks (PDFs) for a model whose configuration does not price them.</summary>
    public static GatewayError DocumentsRefused(string model) => GatewayError.InvalidRequest(
        $"The model '{model}' does not accept document blocks through this gateway: their tokens cannot be counted before they are billed (the operator can set the model's DocumentTokens).",
        "messages", ErrorCodes.ParamNotAllowed);

    /// <summary>The refusal of a request whose model's upstream does not speak its protocol.</summary>
    public static GatewayError Unserved(ModelDefinition model, UpstreamOptions options, ApiEndpoint endpoint) => GatewayError.InvalidRequest(
        $"The model '{model.Name}' is served by an upstream of kind '{options.Kind}', which does not serve /v1/{endpoint.RelativePath()} and speaks no API it translates to; use another endpoint or model.",
        "model", ErrorCodes.ProtocolNotSupported);
}
