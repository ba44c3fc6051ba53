using Tollgate.Configuration;
using Tollgate.Protocol;

namespace Tollgate.Protocols.Anthropic;

/// <summary>
/// <c>anthropic-beta</c> is forwarded verbatim, except a beta the model's configuration marks as changing its prices
/// (such as long-context pricing) that its prices do not cover: such a request would be billed at rates Tollgate does
/// not know, so it is refused with a 400 naming the beta.
/// </summary>
internal static class AnthropicBetas
{
    public static GatewayError? Check(IHeaderDictionary headers, ModelDefinition model)
    {
        if (model.UncoveredPriceBetas.Count == 0)
        {
            return null;
        }

        foreach (string? value in headers[AnthropicUpstreamProtocol.BetaHeader])
        {
            foreach (var range in (value ?? "").AsSpan().Split(','))
            {
                string beta = value![range].Trim().ToString();
                if (model.UncoveredPriceBetas.Contains(beta))
                {
                    return GatewayError.InvalidRequest(
                        $"The beta '{Proxy.Display.Bounded(beta, 80)}' changes the prices of '{model.Name}', and the gateway's prices for it do not cover it; send the request without it.",
                        AnthropicUpstreamProtocol.BetaHeader, ErrorCodes.BetaNotAllowed);
                }
            }
        }

        return null;
    }
}
