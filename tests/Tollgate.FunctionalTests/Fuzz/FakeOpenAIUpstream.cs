using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// A <see cref="ScriptedUpstream"/> that answers each request with the reply of <see cref="MalformedUpstreamReplies"/>
/// (or of another protocol's set, such as <see cref="MalformedMessagesReplies"/>) named in the request's text
/// (<c>fuzzcase:CASE:SEED</c>), so a test knows exactly what the gateway received.
/// </summary>
internal sealed partial class FakeOpenAIUpstream : IAsyncDisposable
{
    private readonly ScriptedUpstream _server;
    private readonly Func<int, int, bool, UpstreamReply> _build;
    private int _unrecognized;

    private FakeOpenAIUpstream(ScriptedUpstream server, Func<int, int, bool, UpstreamReply> build)
    {
        _server = server;
        _build = build;
        BaseUrl = server.BaseUrl.ToString();
        server.Respond = RespondAsync;
    }

    /// <summary>The base URL to configure as the upstream's <c>BaseUrl</c>.</summary>
    public string BaseUrl { get; }

    /// <summary>Requests that named no case (answered 400).</summary>
    public int Unrecognized => Volatile.Read(ref _unrecognized);

    /// <summary>Starts a fake upstream whose replies come from <paramref name="build"/> (case, seed, stream); by default OpenAI chat's.</summary>
    public static async Task<FakeOpenAIUpstream> StartAsync(Func<int, int, bool, UpstreamReply>? build = null) =>
        new(await ScriptedUpstream.StartAsync(), build ?? MalformedUpstreamReplies.Build);

    private async Task RespondAsync(HttpContext http, JsonObject request)
    {
        bool stream = request["stream"] is JsonValue s && s.TryGetValue(out bool on) && on;
        var match = CaseText().Match(request.ToJsonString());
        if (!match.Success)
        {
            Interlocked.Increment(ref _unrecognized);
            http.Response.StatusCode = 400;
            return;
        }

        var reply = _build(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
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

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    [GeneratedRegex("fuzzcase:([0-9]+):([0-9]+)")]
    private static partial Regex CaseText();
}
