using Tollgate.Configuration;

namespace Tollgate.Upstreams;

/// <summary>
/// How the gateway reaches upstreams of one <see cref="UpstreamOptions.Kind"/>: the message handler under the
/// upstream's <see cref="HttpClient"/>, the base address its requests are resolved against, and the protocol it speaks. One factory is
/// registered per kind (<c>openai</c> by the gateway, <c>simulator</c> by <c>AddTollgateSimulator</c>); the forwarding
/// code knows only this interface.
/// </summary>
public interface IUpstreamHandlerFactory
{
    /// <summary>The <see cref="UpstreamOptions.Kind"/> this factory serves, e.g. <c>openai</c>.</summary>
    string Kind { get; }

    /// <summary>The base address of upstream <paramref name="upstreamName"/>, ending with '/' (e.g. <c>https://api.openai.com/v1/</c>).</summary>
    /// <param name="upstreamName">The upstream's name in the configuration.</param>
    /// <param name="options">Its validated options.</param>
    /// <returns>The absolute URI that endpoint paths such as <c>chat/completions</c> are appended to.</returns>
    Uri GetBaseAddress(string upstreamName, UpstreamOptions options);

    /// <summary>
    /// A new handler for upstream <paramref name="upstreamName"/>. The caller owns it: it is disposed with the client
    /// built on it, once no request uses that client any more.
    /// </summary>
    /// <param name="upstreamName">The upstream's name in the configuration.</param>
    /// <param name="options">Its validated options.</param>
    /// <returns>The handler for the upstream's <see cref="HttpClient"/>.</returns>
    HttpMessageHandler CreateHandler(string upstreamName, UpstreamOptions options);

    /// <summary>The upstream side of the protocol upstreams of this kind speak: OpenAI's API unless the kind says otherwise.</summary>
    Protocol.IUpstreamProtocol Protocol => Tollgate.Protocol.OpenAIUpstreamProtocol.Instance;

    /// <summary>
    /// The upstream side of the protocol upstreams of this kind speak for <paramref name="endpoint"/>, or null when they
    /// do not serve it (a request to it is then refused with a 400 naming the upstream's kind). By default
    /// <see cref="Protocol"/> for OpenAI's endpoints and nothing for Anthropic's.
    /// </summary>
    /// <param name="endpoint">The endpoint the caller called.</param>
    /// <returns>The upstream side of the protocol, or null.</returns>
    Protocol.IUpstreamProtocol? ProtocolFor(Protocol.ApiEndpoint endpoint) =>
        Tollgate.Protocol.ApiEndpoints.IsMessages(endpoint) ? null : Protocol;

    /// <summary>
    /// The path, under the base address, of a request for <paramref name="upstreamModel"/> to the endpoint whose protocol
    /// path is <paramref name="protocolPath"/> (e.g. <c>chat/completions</c>); by default that path itself. A kind that
    /// names the model in the path or the query (Azure OpenAI's deployments) says so here.
    /// </summary>
    /// <param name="protocolPath">The endpoint's path in its protocol.</param>
    /// <param name="endpoint">The endpoint the caller called.</param>
    /// <param name="upstreamModel">The model's name at the upstream.</param>
    /// <param name="options">The upstream's options.</param>
    /// <returns>The path relative to the base address, with its query if any.</returns>
    string PathFor(string protocolPath, Protocol.ApiEndpoint endpoint, string upstreamModel, UpstreamOptions options) => protocolPath;

    /// <summary>Adds the upstream's credential, and any header its kind requires, to a request (by default <c>Authorization: Bearer</c>).</summary>
    /// <param name="message">The request about to be sent.</param>
    /// <param name="apiKey">The upstream's API key, or null when it has none.</param>
    /// <param name="options">The upstream's options.</param>
    void PrepareRequest(HttpRequestMessage message, string? apiKey, UpstreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (apiKey is { Length: > 0 })
        {
            message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }
    }
}
