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
}
