using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>
/// The upstream receives the caller's bytes, except the fields policy rewrites: text in any script, emoji, escapes,
/// number forms and whitespace arrive exactly as sent.
/// </summary>
public sealed class ForwardedBodyTests : IAsyncLifetime
{
    private const string Content = "你好，世界。日本語のテキスト 🚀👩‍💻🏳️‍🌈 <b>&amp;</b> \\ud83d\\ude00 \\u00e9 é \\\"quoted\\\" \\n tab\\t";
    private ScriptedUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ScriptedUpstream.StartAsync();
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteCompletionAsync(http, "好的 👍", """{"prompt_tokens":40,"completion_tokens":3,"total_tokens":43}""");
        _gateway = await TestGateway.StartAsync(_upstream.Configure);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Post_CjkEmojiAndEscapes_ReachTheUpstreamByteForByte()
    {
        string body = "{\n  \"model\": \"scripted-exact\",\n  \"max_tokens\": 100,\n  \"temperature\": 0.50,\n"
            + "  \"messages\": [ {\"role\": \"system\", \"content\": \"Réponds en 中文.\"}, {\"role\":\"user\",\"content\":\"" + Content + "\"} ],\n"
            + "  \"metadata\": {\"ticket\": \"チケット-42\"}\n}\n";

        await PostAsync(body);

        Assert.Equal(Encoding.UTF8.GetBytes(body), Assert.Single(_upstream.RawRequests));
    }

    [Fact]
    public async Task Post_Stream_OnlyTheUsageOptionIsAdded()
    {
        string body = "{\"model\":\"scripted-exact\",\"max_tokens\":100,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"" + Content + "\"}]}";
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteStreamAsync(http, ["好的", " 👍"], """{"prompt_tokens":40,"completion_tokens":3,"total_tokens":43}""");

        await PostAsync(body);

        string expected = body[..^1] + ",\"stream_options\":{\"include_usage\":true}}";
        Assert.Equal(Encoding.UTF8.GetBytes(expected), Assert.Single(_upstream.RawRequests));
    }

    [Fact]
    public async Task Post_NoTraceFromTheCaller_NoTraceHeaderAddedForTheUpstream()
    {
        // No tracing is configured: the gateway starts no Activity for the request, so HttpClient adds no traceparent.
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string[]>();
        _upstream.Respond = (http, _) =>
        {
            seen.Enqueue([.. http.Request.Headers.Keys]);
            return ScriptedUpstream.WriteCompletionAsync(http, "ok", """{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}""");
        };

        await PostAsync("""{"model":"scripted-exact","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");

        var headers = Assert.Single(seen);
        Assert.Contains("Content-Type", headers, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain("traceparent", headers, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain("Request-Id", headers, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Post_CallersTraceContext_ReachesTheUpstreamUnchanged()
    {
        const string Parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        const string State = "vendor=opaque-value,other=1";
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(string? Parent, string? State)>();
        _upstream.Respond = (http, _) =>
        {
            seen.Enqueue((http.Request.Headers["traceparent"].SingleOrDefault(), http.Request.Headers["tracestate"].SingleOrDefault()));
            return ScriptedUpstream.WriteCompletionAsync(http, "ok", """{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}""");
        };

        await PostAsync("""{"model":"scripted-exact","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""",
            request =>
            {
                request.Headers.Add("traceparent", Parent);
                request.Headers.Add("tracestate", State);
            });

        Assert.Equal((Parent, State), Assert.Single(seen));
    }

    private async Task PostAsync(string body, Action<HttpRequestMessage>? decorate = null)
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        decorate?.Invoke(request);
        using var response = await _gateway.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
    }
}
