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
/// An OpenAI-compatible upstream on loopback whose every answer a test writes: for what the simulator will not do
/// (usage that lies, streams that count differently from Tollgate's tokenizer). Each request's body is kept, and the
/// answer comes from <see cref="Respond"/>.
/// </summary>
internal sealed class ScriptedUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ScriptedUpstream(WebApplication app, Uri address)
    {
        _app = app;
        BaseUrl = new Uri(address, "/v1");
    }

    /// <summary>The base URL to configure as an <c>openai</c> upstream (ends in <c>/v1</c>).</summary>
    public Uri BaseUrl { get; }

    /// <summary>The answer to each request (by default a 500).</summary>
    public Func<HttpContext, JsonObject, Task> Respond { get; set; } = (http, _) =>
    {
        http.Response.StatusCode = 500;
        return Task.CompletedTask;
    };

    /// <summary>The bodies received, in order.</summary>
    public ConcurrentQueue<JsonObject> Requests { get; } = new();

    /// <summary>The bodies received, in order, as the bytes that arrived.</summary>
    public ConcurrentQueue<byte[]> RawRequests { get; } = new();

    public static async Task<ScriptedUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        ScriptedUpstream? self = null;
        app.MapPost("/v1/{**path}", async (HttpContext http) =>
        {
            using var raw = new MemoryStream();
            await http.Request.Body.CopyToAsync(raw);
            var body = JsonNode.Parse(raw.ToArray())!.AsObject();
            self!.RawRequests.Enqueue(raw.ToArray());
            self.Requests.Enqueue(body);
            await self.Respond(http, body);
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        self = new ScriptedUpstream(app, address);
        return self;
    }

    /// <summary>Adds this upstream and two models on it (<c>scripted-exact</c>, o200k; <c>scripted-approx</c>, approximate) to the basic plan.</summary>
    public void Configure(JsonObject tollgate)
    {
        tollgate["Upstreams"]!["scripted"] = new JsonObject
        {
            ["Kind"] = "openai",
            ["BaseUrl"] = BaseUrl.ToString(),
            ["ResponseTimeout"] = "00:00:30",
            ["IdleTimeout"] = "00:00:30",
        };
        foreach (var (name, encoding) in new[] { ("scripted-exact", "o200k_base"), ("scripted-approx", "approximate") })
        {
            tollgate["Models"]![name] = new JsonObject
            {
                ["Upstream"] = "scripted",
                ["Prices"] = new JsonObject { ["Input"] = 1.0, ["Output"] = 2.0 },
                ["ContextWindow"] = 32000,
                ["MaxOutputTokens"] = 4096,
                ["Encoding"] = encoding,
            };
            tollgate["Plans"]!["basic"]!["Models"]!.AsArray().Add(name);
        }
    }

    /// <summary>Writes a plain chat completion with <paramref name="content"/> and the raw <paramref name="usageJson"/> (or none).</summary>
    public static Task WriteCompletionAsync(HttpContext http, string content, string? usageJson)
    {
        string usage = usageJson is null ? "" : ",\"usage\":" + usageJson;
        string body = "{\"id\":\"chatcmpl-s\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
            + "\"message\":{\"role\":\"assistant\",\"content\":" + JsonValue.Create(content).ToJsonString() + "},\"finish_reason\":\"stop\"}]" + usage + "}";
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(body, Encoding.UTF8);
    }

    /// <summary>
    /// Streams <paramref name="pieces"/> as content chunks; <paramref name="runningUsage"/> adds the running output count
    /// to each chunk (as vLLM's continuous usage stats do); <paramref name="finalUsageJson"/> is the usage-only chunk.
    /// </summary>
    public static async Task WriteStreamAsync(HttpContext http, IReadOnlyList<string> pieces, string? finalUsageJson,
        Func<int, string?>? runningUsage = null, bool done = true)
    {
        http.Response.ContentType = "text/event-stream";
        for (int i = 0; i < pieces.Count; i++)
        {
            string usage = runningUsage?.Invoke(i + 1) is { } u ? ",\"usage\":" + u : "";
            await http.Response.WriteAsync("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                + JsonValue.Create(pieces[i]).ToJsonString() + "}}]" + usage + "}\n\n");
            await http.Response.Body.FlushAsync();
        }

        if (finalUsageJson is not null)
        {
            await http.Response.WriteAsync("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":" + finalUsageJson + "}\n\n");
        }

        if (done)
        {
            await http.Response.WriteAsync("data: [DONE]\n\n");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
