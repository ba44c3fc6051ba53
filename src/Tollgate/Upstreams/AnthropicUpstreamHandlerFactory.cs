using System.Net;
using Tollgate.Configuration;
using Tollgate.Protocol;

namespace Tollgate.Upstreams;

/// <summary>
/// The <c>anthropic</c> kind: Anthropic's Messages API at the upstream's <see cref="UpstreamOptions.BaseUrl"/> (e.g.
/// <c>https://api.anthropic.com/v1</c>), authenticated with <c>x-api-key</c>; <c>anthropic-version</c> is the caller's,
/// else the upstream's <see cref="UpstreamOptions.AnthropicVersion"/>. It serves Messages requests only.
/// </summary>
internal sealed class AnthropicUpstreamHandlerFactory : IUpstreamHandlerFactory
{
    public string Kind => UpstreamKinds.Anthropic;

    public IUpstreamProtocol Protocol => AnthropicUpstreamProtocol.Instance;

    public IUpstreamProtocol? ProtocolFor(ApiEndpoint endpoint) => endpoint.IsMessages() ? AnthropicUpstreamProtocol.Instance : null;

    public Uri GetBaseAddress(string upstreamName, UpstreamOptions options)
    {
        string baseUrl = options.BaseUrl ?? throw new InvalidOperationException($"Upstream '{upstreamName}' has no BaseUrl.");
        return new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
    }

    public void PrepareRequest(HttpRequestMessage message, string? apiKey, UpstreamOptions options)
    {
        if (apiKey is { Length: > 0 })
        {
            message.Headers.TryAddWithoutValidation("x-api-key", apiKey);
        }

        if (!message.Headers.Contains(AnthropicUpstreamProtocol.VersionHeader))
        {
            message.Headers.TryAddWithoutValidation(AnthropicUpstreamProtocol.VersionHeader, options.AnthropicVersion);
        }
    }

    public HttpMessageHandler CreateHandler(string upstreamName, UpstreamOptions options) => new SocketsHttpHandler
    {
        ConnectTimeout = options.ConnectTimeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = DecompressionMethods.None,
        AllowAutoRedirect = false,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
    };
}
