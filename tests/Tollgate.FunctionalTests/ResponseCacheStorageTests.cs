using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>
/// What may be stored, against answers the simulator does not give: content-filtered answers and error events are
/// never stored; a streamed answer with tool calls is assembled into the plain form and replayed to both kinds of caller.
/// </summary>
public sealed class ResponseCacheStorageTests : IAsyncLifetime
{
    private const string Usage = """{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}""";
    private ScriptedUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ScriptedUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(c =>
        {
            _upstream.Configure(c);
            ResponseCacheTests.EnableCache(c);
            c["Models"]!["scripted-exact"]!["CacheResponses"] = true;
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ContentFilteredPlainAnswer_IsNeverStored()
    {
        _upstream.Respond = (http, _) => WriteAsync(http, "application/json",
            "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
            + "\"finish_reason\":\"content_filter\"}],\"usage\":" + Usage + "}");

        var (first, second) = await TwiceAsync(Body(stream: false));

        Assert.Equal((HttpStatusCode.OK, "miss", "miss"), (first.Status, first.Cache, second.Cache));
        Assert.Equal(2, _upstream.Requests.Count);
    }

    [Fact]
    public async Task ContentFilteredStream_IsNeverStored()
    {
        _upstream.Respond = (http, _) => WriteAsync(http, "text/event-stream",
            Chunk("{\"role\":\"assistant\",\"content\":\"Once\"}", null) + Chunk("{}", "content_filter") + UsageChunk() + "data: [DONE]\n\n");

        var (first, second) = await TwiceAsync(Body(stream: true));

        Assert.Equal((HttpStatusCode.OK, "miss", "miss"), (first.Status, first.Cache, second.Cache));
        Assert.Equal(2, _upstream.Requests.Count);
    }

    [Fact]
    public async Task StreamWithAnErrorEvent_IsNeverStored()
    {
        _upstream.Respond = (http, _) => WriteAsync(http, "text/event-stream",
            Chunk("{\"role\":\"assistant\",\"content\":\"Once\"}", null) + "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n"
            + Chunk("{}", "stop") + UsageChunk() + "data: [DONE]\n\n");

        var (_, second) = await TwiceAsync(Body(stream: true));

        Assert.Equal("miss", second.Cache);
        Assert.Equal(2, _upstream.Requests.Count);
    }

    [Fact]
    public async Task StreamedToolCalls_AreAssembledAndReplayedToPlainAndStreamingCallers()
    {
        _upstream.Respond = (http, _) => WriteAsync(http, "text/event-stream",
            Chunk("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"tide\",\"arguments\":\"\"}}]}", null)
            + Chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"port\\\":\"}}]}", null)
            + Chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Brest\\\"}\"}}]}", null)
            + Chunk("{}", "tool_calls") + UsageChunk() + "data: [DONE]\n\n");
        string key = await _gateway.CreateKeyAsync();
        await ResponseCacheTests.SendAsync(_gateway, key, Body(stream: true));

        var plain = await ResponseCacheTests.SendAsync(_gateway, key, Body(stream: false));
        var stream = await ResponseCacheTests.SendAsync(_gateway, key, Body(stream: true));

        Assert.Equal(("hit", "hit"), (plain.Cache, stream.Cache));
        Assert.Single(_upstream.Requests);
        using var document = JsonDocument.Parse(plain.Body);
        var choice = document.RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal(("call_1", "function", "tide", "{\"port\":\"Brest\"}"), (call.GetProperty("id").GetString(), call.GetProperty("type").GetString(),
            call.GetProperty("function").GetProperty("name").GetString(), call.GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal(4, document.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var events = StreamingTests.DataEvents(stream.Body);
        using var first = JsonDocument.Parse(events[0]);
        var delta = first.RootElement.GetProperty("choices")[0].GetProperty("delta");
        var streamed = Assert.Single(delta.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal((0, "{\"port\":\"Brest\"}"), (streamed.GetProperty("index").GetInt32(), streamed.GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal("[DONE]", events[^1]);
    }

    private static string Body(bool stream) =>
        $$"""{"model":"scripted-exact","max_tokens":50,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Tides at Brest?"}]}""";

    private static string Chunk(string delta, string? finish) =>
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":" + delta
        + ",\"finish_reason\":" + (finish is null ? "null" : "\"" + finish + "\"") + "}]}\n\n";

    private static string UsageChunk() => "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":" + Usage + "}\n\n";

    private static Task WriteAsync(HttpContext http, string mediaType, string body)
    {
        http.Response.ContentType = mediaType;
        return http.Response.WriteAsync(body);
    }

    private async Task<(ResponseCacheTests.Answer First, ResponseCacheTests.Answer Second)> TwiceAsync(string body)
    {
        string key = await _gateway.CreateKeyAsync();
        var first = await ResponseCacheTests.SendAsync(_gateway, key, body);
        var second = await ResponseCacheTests.SendAsync(_gateway, key, body);
        return (first, second);
    }
}
