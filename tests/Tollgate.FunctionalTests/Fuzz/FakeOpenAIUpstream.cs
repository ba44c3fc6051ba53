using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// An OpenAI-compatible server on 127.0.0.1:0 (Kestrel) that answers each request with the reply of
/// <see cref="MalformedUpstreamReplies"/> named in the request's text (<c>fuzzcase:CASE:SEED</c>), so a test knows
/// exactly what the gateway received.
/// </summary>
internal sealed partial class FakeOpenAIUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _unrecognized;

    private FakeOpenAIUpstream(WebApplication app)
    {
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = address.TrimEnd('/') + "/v1";
    }

    /// <summary>The base URL to configure as the upstream's <c>BaseUrl</c>.</summary>
    public string BaseUrl { get; }

    /// <summary>Requests that named no case (answered 400).</summary>
    public int Unrecognized => Volatile.Read(ref _unrecognized);

    public static async Task<FakeOpenAIUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeOpenAIUpstream? upstream = null;
        app.MapPost("/v1/{**rest}", (HttpContext http) => upstream!.RespondAsync(http));
        await app.StartAsync();
        upstream = new FakeOpenAIUpstream(app);
        return upstream;
    }

    private async Task RespondAsync(HttpContext http)
    {
        using var document = await JsonDocument.ParseAsync(http.Request.Body);
        bool stream = document.RootElement.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var match = CaseText().Match(document.RootElement.GetRawText());
        if (!match.Success)
        {
            Interlocked.Increment(ref _unrecognized);
            http.Response.StatusCode = 400;
            return;
        }

        var reply = MalformedUpstreamReplies.Build(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), stream);
        http.Response.StatusCode = reply.Status;
        if (reply.ContentType is not null)
        {
            http.Response.ContentType = reply.ContentType;
        }

        foreach (var (name, value) in reply.Headers)
        {
            http.Response.Headers[name] = value;
        }

        if (!reply.Abort && !reply.IsSse)
        {
            http.Response.ContentLength = reply.Parts.Sum(p => (long)p.Length);
        }

        foreach (byte[] part in reply.Parts)
        {
            await http.Response.Body.WriteAsync(part);
            await http.Response.Body.FlushAsync();
        }

        if (reply.Abort)
        {
            http.Abort();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [GeneratedRegex("fuzzcase:([0-9]+):([0-9]+)")]
    private static partial Regex CaseText();
}
