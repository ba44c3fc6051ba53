using System.Net;
using Tollgate.Configuration;
using Tollgate.Protocol;

namespace Tollgate.Upstreams;

/// <summary>
/// The <c>azure-openai</c> kind: an Azure OpenAI resource at the upstream's <see cref="UpstreamOptions.BaseUrl"/>
/// (e.g. <c>https://my-resource.openai.azure.com</c>), authenticated with the <c>api-key</c> header. A model's
/// <c>UpstreamModel</c> is its deployment: chat completions, legacy completions and embeddings go to
/// <c>openai/deployments/{deployment}/…</c>, the Responses API to <c>openai/responses</c>, each with
/// <c>api-version</c> (<see cref="UpstreamOptions.AzureApiVersion"/>). It speaks OpenAI's protocol, not Anthropic's.
/// </summary>
internal sealed class AzureOpenAIUpstreamHandlerFactory : IUpstreamHandlerFactory
{
    public string Kind => UpstreamKinds.AzureOpenAI;

    public Uri GetBaseAddress(string upstreamName, UpstreamOptions options)
    {
        string baseUrl = options.BaseUrl ?? throw new InvalidOperationException($"Upstream '{upstreamName}' has no BaseUrl.");
        return new Uri(baseUrl.TrimEnd('/') + "/openai/");
    }

    public string PathFor(string protocolPath, ApiEndpoint endpoint, string upstreamModel, UpstreamOptions options)
    {
        string version = "api-version=" + Uri.EscapeDataString(options.AzureApiVersion);
        return endpoint == ApiEndpoint.Responses
            ? $"{protocolPath}?{version}"
            : $"deployments/{Uri.EscapeDataString(upstreamModel)}/{protocolPath}?{version}";
    }

    public void PrepareRequest(HttpRequestMessage message, string? apiKey, UpstreamOptions options)
    {
        if (apiKey is { Length: > 0 })
        {
            message.Headers.TryAddWithoutValidation("api-key", apiKey);
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
