using System.Buffers;
using System.Text;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class OpenAIUpstreamProtocolTests
{
    private static readonly OpenAIUpstreamProtocol _protocol = OpenAIUpstreamProtocol.Instance;

    [Theory]
    [InlineData(ApiEndpoint.ChatCompletions, "chat/completions")]
    [InlineData(ApiEndpoint.Completions, "completions")]
    [InlineData(ApiEndpoint.Embeddings, "embeddings")]
    public void PathFor_EachEndpoint_RelativeToTheBaseAddress(ApiEndpoint endpoint, string path) =>
        Assert.Equal(path, _protocol.PathFor(endpoint));

    [Theory]
    [InlineData("[DONE]", true)]
    [InlineData("[DONE] ", false)]
    [InlineData("[done]", false)]
    [InlineData("\"[DONE]\"", false)]
    [InlineData("{}", false)]
    [InlineData("", false)]
    public void IsEndOfStream_OnlyTheExactDoneMarker(string data, bool expected) =>
        Assert.Equal(expected, _protocol.IsEndOfStream(Encoding.UTF8.GetBytes(data)));

    [Fact]
    public void ReadResponse_ChatCompletion_UsageChoicesAndText()
    {
        byte[] body = """{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"}}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"""u8.ToArray();
        var generated = new StringBuilder();

        var scan = _protocol.ReadResponse(body, generated);

        Assert.True(scan.Valid);
        Assert.Equal(1, scan.Choices);
        Assert.Equal(new TokenUsage(9, 0, 2, 0), scan.Usage);
        Assert.True(scan.UsageIsKnown(outputExpected: true, generated.Length));
        Assert.Equal("Hello there", generated.ToString());
        Assert.Equal(ResponseScanner.Scan(body, null), _protocol.ReadResponse(body, null));
    }

    [Fact]
    public void ReadEvent_UsageOnlyChunk_UsageWithNoChoices()
    {
        byte[] data = """{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}"""u8.ToArray();
        var generated = new StringBuilder();

        var scan = _protocol.ReadEvent(data, generated);

        Assert.Equal((true, true, 0), (scan.Valid, scan.HasUsage, scan.Choices));
        Assert.Equal(new TokenUsage(9, 0, 4, 0), scan.Usage);
        Assert.Equal(0, generated.Length);
        Assert.Equal(data.Length - 2, scan.UsageEnd);
    }

    [Fact]
    public void ReadEvent_ContentChunk_AppendsTheDelta()
    {
        var generated = new StringBuilder("Hel");

        var scan = _protocol.ReadEvent("""{"choices":[{"index":0,"delta":{"content":"lo"}}]}"""u8, generated);

        Assert.Equal((true, false, 1), (scan.Valid, scan.HasUsage, scan.Choices));
        Assert.Equal("Hello", generated.ToString());
    }

    [Fact]
    public void ReadEvent_ErrorObject_IsErrorWithoutUsage()
    {
        var scan = _protocol.ReadEvent("""{"error":{"message":"overloaded","type":"server_error","code":null}}"""u8, null);

        Assert.True(scan.IsError);
        Assert.True(scan.Valid);
        Assert.False(scan.HasUsage);
        Assert.Equal(-1, scan.Choices);
    }

    [Fact]
    public void ReadResponse_BrokenJson_NotValid()
    {
        var scan = _protocol.ReadResponse("""{"choices":[{"message":{"content":"cut"""u8, null);

        Assert.False(scan.Valid);
    }

    [Fact]
    public void WriteRequest_Rewrite_ModelAndCapOnly()
    {
        const string Body = """{"model":"alias","messages":[{"role":"user","content":"hi"}],"max_tokens":900}""";
        Assert.True(OpenAIRequestReader.ChatCompletions.TryRead(Encoding.UTF8.GetBytes(Body), out var request, out _));
        using (request)
        {
            var output = new ArrayBufferWriter<byte>();

            _protocol.WriteRequest(request!, new UpstreamRewrite("upstream-id", "max_tokens", 100), output);

            Assert.Equal("""{"model":"upstream-id","messages":[{"role":"user","content":"hi"}],"max_tokens":100}""", Encoding.UTF8.GetString(output.WrittenSpan));
        }
    }
}
