using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenAI.Chat;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>
/// An upstream of kind <c>azure-openai</c>: a loopback stand-in for an Azure OpenAI resource records what arrives —
/// the deployment in the path, <c>api-version</c>, the <c>api-key</c> header and no bearer token — and answers as
/// Azure does; the official OpenAI client calls the gateway as usual.
/// </summary>
public sealed class AzureOpenAIUpstreamTests : IAsyncLifetime
{
    private const string Secret = "azure-test-key-0123456789";
    private readonly ConcurrentQueue<(string Path, string Query, string? ApiKey, string? Authorization)> _seen = new();
    private WebApplication _azure = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _azure = builder.Build();
        _azure.MapPost("/openai/{**path}", async (HttpContext http) =>
        {
            _seen.Enqueue((http.Request.Path.Value!, http.Request.QueryString.Value ?? "", http.Request.Headers["api-key"].FirstOrDefault(),
                http.Request.Headers.Authorization.FirstOrDefault()));
            await ScriptedUpstream.WriteCompletionAsync(http, "hello from azure",
                """{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}""");
        });
        await _azure.StartAsync();
        var address = _azure.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Environment.SetEnvironmentVariable("TOLLGATE_TEST_AZURE_KEY", Secret);
        _gateway = await TestGateway.StartAsync(c =>
        {
            c["Upstreams"]!["azure"] = new JsonObject
            {
                ["Kind"] = "azure-openai",
                ["BaseUrl"] = address,
                ["ApiKeyEnv"] = "TOLLGATE_TEST_AZURE_KEY",
                ["AzureApiVersion"] = "2025-04-01-preview",
            };
            c["Models"]!["azure-mini"] = new JsonObject
            {
                ["Upstream"] = "azure",
                ["UpstreamModel"] = "my-gpt-deployment",
                ["Prices"] = new JsonObject { ["Input"] = 1.0, ["Output"] = 2.0 },
                ["ContextWindow"] = 32000,
                ["MaxOutputTokens"] = 4096,
            };
            c["Plans"]!["basic"]!["Models"]!.AsArray().Add("azure-mini");
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _azure.StopAsync();
        await _azure.DisposeAsync();
    }

    [Fact]
    public async Task ChatCompletion_GoesToTheDeploymentWithApiVersionAndApiKey_BilledFromItsUsage()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetChatClient("azure-mini");
        string requestId = ids.Use();

        ChatCompletion completion = (await client.CompleteChatAsync([new UserChatMessage("Hello, Azure.")])).Value;

        Assert.Equal("hello from azure", completion.Content[0].Text);
        var (path, query, apiKey, authorization) = Assert.Single(_seen);
        Assert.Equal("/openai/deployments/my-gpt-deployment/chat/completions", path);
        Assert.Equal("?api-version=2025-04-01-preview", query);
        Assert.Equal(Secret, apiKey);
        Assert.Null(authorization);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "azure", 11L, 3L), (record.Decision, record.Upstream, record.Usage.InputTokens, record.Usage.OutputTokens));
    }

    [Fact]
    public async Task MessagesRequest_ToAnAzureUpstream_TranslatedToTheDeploymentsChatCompletions()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent("""{"model":"azure-mini","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var message = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(("message", "hello from azure"),
            (message.RootElement.GetProperty("type").GetString(), message.RootElement.GetProperty("content")[0].GetProperty("text").GetString()));
        Assert.Equal((11, 3), (message.RootElement.GetProperty("usage").GetProperty("input_tokens").GetInt32(), message.RootElement.GetProperty("usage").GetProperty("output_tokens").GetInt32()));
        var (path, query, apiKey, _) = Assert.Single(_seen);
        Assert.Equal(("/openai/deployments/my-gpt-deployment/chat/completions", "?api-version=2025-04-01-preview", Secret), (path, query, apiKey));
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(("messages", "azure", 11L, 3L), (record.Endpoint, record.Upstream, record.Usage.InputTokens, record.Usage.OutputTokens));
    }
}
