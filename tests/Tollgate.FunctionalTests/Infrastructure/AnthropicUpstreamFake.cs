using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tollgate.FunctionalTests.Infrastructure;

/// <summary>
/// A loopback stand-in for Anthropic's API, configured as an upstream of kind <c>anthropic</c>: it records the path,
/// the headers that matter (<c>x-api-key</c>, <c>Authorization</c>, <c>anthropic-version</c>, <c>anthropic-beta</c>)
/// and the body of each request, and answers with <see cref="Respond"/> (by default a message whose usage is
/// <see cref="InputTokens"/> in and <see cref="OutputTokens"/> out).
/// </summary>
internal sealed class AnthropicUpstreamFake : IAsyncDisposable
{
    public const long InputTokens = 11, OutputTokens = 3;

    private readonly WebApplication _app;

    private AnthropicUpstreamFake(WebApplication app, Uri address)
    {
        _app = app;
        BaseUrl = new Uri(address, "/v1");
    }

    /// <summary>The base URL to configure (ends in <c>/v1</c>).</summary>
    public Uri BaseUrl { get; }

    /// <summary>The requests received, in order.</summary>
    public ConcurrentQueue<Seen> Requests { get; } = new();

    /// <summary>The answer to each request.</summary>
    public Func<HttpContext, JsonObject, Task> Respond { get; set; } = (http, _) => WriteMessageAsync(http);

    public static async Task<AnthropicUpstreamFake> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        AnthropicUpstreamFake? self = null;
        app.MapPost("/v1/{**path}", async (HttpContext http) =>
        {
            using var raw = new MemoryStream();
            await http.Request.Body.CopyToAsync(raw);
            var body = JsonNode.Parse(raw.ToArray())!.AsObject();
            var headers = http.Request.Headers;
            self!.Requests.Enqueue(new Seen(http.Request.Path.Value!, headers["x-api-key"].FirstOrDefault(), headers.Authorization.FirstOrDefault(),
                headers["anthropic-version"].FirstOrDefault(), headers["anthropic-beta"].FirstOrDefault(), body));
            await self.Respond(http, body);
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        self = new AnthropicUpstreamFake(app, address);
        return self;
    }

    /// <summary>A Messages answer saying "hello from anthropic" with the fake's usage.</summary>
    public static Task WriteMessageAsync(HttpContext http)
    {
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync("{\"id\":\"msg_fake\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-fake\","
            + "\"content\":[{\"type\":\"text\",\"text\":\"hello from anthropic\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
            + $"\"usage\":{{\"input_tokens\":{InputTokens},\"output_tokens\":{OutputTokens}}}}}", Encoding.UTF8);
    }

    /// <summary>An error in Anthropic's envelope.</summary>
    public static Task WriteErrorAsync(HttpContext http, int status, string type, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
        }.ToJsonString(), Encoding.UTF8);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>One request as it arrived.</summary>
    public sealed record Seen(string Path, string? ApiKey, string? Authorization, string? Version, string? Beta, JsonObject Body);
}
