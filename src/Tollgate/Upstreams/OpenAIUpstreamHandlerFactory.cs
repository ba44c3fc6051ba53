using System.Net;
using Tollgate.Configuration;

namespace Tollgate.Upstreams;

/// <summary>The <c>openai</c> kind: any OpenAI-compatible HTTP API at the upstream's <see cref="UpstreamOptions.BaseUrl"/>.</summary>
internal sealed class OpenAIUpstreamHandlerFactory : IUpstreamHandlerFactory
{
    public string Kind => UpstreamKinds.OpenAI;

    public Uri GetBaseAddress(string upstreamName, UpstreamOptions options)
    {
        string baseUrl = options.BaseUrl ?? throw new InvalidOperationException($"Upstream '{upstreamName}' has no BaseUrl.");
        return new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
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
