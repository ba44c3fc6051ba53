using System.Diagnostics;
using System.Net;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// A stream whose relay fails after its 200 went out ends with the documented final SSE error event (not a cut
/// connection) and is audited as a failure, not as "ok". Found by <see cref="UpstreamFuzzTests"/>: a delta carrying
/// invalid UTF-8 or a lone surrogate made the relay throw.
/// </summary>
public sealed class MidStreamFailureTests
{
    [Theory]
    [InlineData("invalid-utf8-content")]
    [InlineData("lone-surrogate-content")]
    public async Task Stream_UpstreamDeltaWithInvalidText_EndsWithDoneOrFinalErrorEvent(string replyCase)
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        await using var gateway = await FuzzGateway.StartAsync(upstream);
        string key = await gateway.CreateKeyAsync(plan: "fuzz");
        int caseNumber = MalformedUpstreamReplies.IndexOf(replyCase, stream: true);
        using var request = ChatCompletionTests.Json(key,
            $$"""{"model":"fuzz-chat","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"fuzzcase:{{caseNumber}}:1 answer"}]}""");
        request.Headers.Add("x-request-id", "mid-stream-" + replyCase);

        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string last = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        var record = await gateway.AuditAsync("mid-stream-" + replyCase);
        if (last != "data: [DONE]")
        {
            Assert.StartsWith("data: {\"error\":", last, StringComparison.Ordinal);
            Assert.Null(OpenAIErrorShape.Problem(last[6..], out _, out _));
            Assert.NotEqual("ok", record.Reason);
        }
    }

    [Fact]
    public async Task Stream_UnbrokenRunOfOneLetter_CountedInLinearTimeAndCut()
    {
        // Found by the Messages upstream fuzz: the stream's running count tokenized each event whole, so an upstream
        // streaming a long run of one letter cost the gateway seconds of CPU per request (quadratic in the run).
        await using var upstream = await FakeOpenAIUpstream.StartAsync((_, _, _) => new UpstreamReply("long-run", 200, "text/event-stream",
        [
            MalformedUpstreamReplies.Cat("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"", new string('a', 400_000), "\"}}]}\n\n"),
            "data: [DONE]\n\n"u8.ToArray(),
        ]));
        await using var gateway = await FuzzGateway.StartAsync(upstream);
        string key = await gateway.CreateKeyAsync(plan: "fuzz");
        using var request = ChatCompletionTests.Json(key, """{"model":"fuzz-chat","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"fuzzcase:0:1 answer"}]}""");
        request.Headers.Add("x-request-id", "long-run");
        var watch = Stopwatch.StartNew();

        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        string body = await response.Content.ReadAsStringAsync();

        // Quadratic counting took over a minute here; linear counting takes well under a second.
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("output_limit_exceeded", body, StringComparison.Ordinal);
        var record = await gateway.AuditAsync("long-run");
        Assert.Equal(("output_limit_exceeded", 64L), (record.Reason, record.Usage.OutputTokens));
    }

    [Theory]
    [InlineData("invalid-utf8-content", true)]
    [InlineData("lone-surrogate-content", true)]
    [InlineData("error-event", true)]
    [InlineData("invalid-utf8-content", false)]
    [InlineData("lone-surrogate-content", false)]
    [InlineData("error-event", false)]
    public async Task Stream_MessagesOrResponses_EndsWithItsProtocolsLastEventOrErrorEvent(string replyCase, bool messages)
    {
        await using var upstream = await FakeOpenAIUpstream.StartAsync(messages ? MalformedMessagesReplies.Build : MalformedResponsesReplies.Build);
        await using var gateway = await FuzzGateway.StartAsync(upstream, messages ? "anthropic" : "openai");
        string key = await gateway.CreateKeyAsync(plan: "fuzz");
        int caseNumber = messages ? MalformedMessagesReplies.IndexOf(replyCase, stream: true) : MalformedResponsesReplies.IndexOf(replyCase, stream: true);
        string requestId = $"mid-stream-{replyCase}-{messages}";
        using var request = messages
            ? ChatCompletionTests.Json(key, $$"""{"model":"fuzz-chat","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"fuzzcase:{{caseNumber}}:1 answer"}]}""", "/v1/messages")
            : ChatCompletionTests.Json(key, $$"""{"model":"fuzz-chat","max_output_tokens":64,"stream":true,"input":"fuzzcase:{{caseNumber}}:1 answer"}""", "/v1/responses");
        request.Headers.Add("x-request-id", requestId);

        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string last = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        string lastEvent = last.Split('\n')[0];
        var record = await gateway.AuditAsync(requestId);
        if (lastEvent == "event: error")
        {
            Assert.NotEqual("ok", record.Reason);
            if (messages)
            {
                Assert.Null(AnthropicErrorShape.Problem(last.Split('\n')[1][6..], out _));
            }
        }
        else
        {
            Assert.Equal(messages ? "event: message_stop" : "event: response.completed", lastEvent);
        }

        Assert.Equal(1, (await gateway.AuditRecordsAsync()).Count(r => r.RequestId == requestId));
    }
}
