using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Upstreams;

namespace Tollgate.Tests.Upstreams;

public sealed class AzureOpenAIUpstreamHandlerFactoryTests
{
    private static readonly AzureOpenAIUpstreamHandlerFactory _azure = new();
    private static readonly UpstreamOptions _options = new()
    {
        Kind = UpstreamKinds.AzureOpenAI,
        BaseUrl = "https://example.openai.azure.com/",
        AzureApiVersion = "2025-04-01-preview",
    };

    [Theory]
    [InlineData("chat/completions", ApiEndpoint.ChatCompletions, "https://example.openai.azure.com/openai/deployments/gpt%204o/chat/completions?api-version=2025-04-01-preview")]
    [InlineData("embeddings", ApiEndpoint.Embeddings, "https://example.openai.azure.com/openai/deployments/gpt%204o/embeddings?api-version=2025-04-01-preview")]
    [InlineData("responses", ApiEndpoint.Responses, "https://example.openai.azure.com/openai/responses?api-version=2025-04-01-preview")]
    [InlineData("responses/resp_1/cancel", ApiEndpoint.Responses, "https://example.openai.azure.com/openai/responses/resp_1/cancel?api-version=2025-04-01-preview")]
    public void PathFor_DeploymentInThePath_ApiVersionOnEveryRequest(string protocolPath, ApiEndpoint endpoint, string expected)
    {
        var address = new Uri(_azure.GetBaseAddress("azure", _options), _azure.PathFor(protocolPath, endpoint, "gpt 4o", _options));

        Assert.Equal(expected, address.AbsoluteUri);
    }

    [Fact]
    public void PrepareRequest_ApiKeyHeader_NoBearerToken()
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, "https://example.openai.azure.com/openai/responses/x");

        _azure.PrepareRequest(message, "secret", _options);

        Assert.Equal("secret", message.Headers.GetValues("api-key").Single());
        Assert.Null(message.Headers.Authorization);
    }

    [Fact]
    public void ProtocolFor_ServesOpenAIsEndpointsOnly()
    {
        IUpstreamHandlerFactory kind = _azure;

        Assert.Same(OpenAIUpstreamProtocol.Instance, kind.ProtocolFor(ApiEndpoint.ChatCompletions));
        Assert.Null(kind.ProtocolFor(ApiEndpoint.Messages));
    }
}
