using System.Buffers;
using System.Text;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class AnthropicUpstreamProtocolTests
{
    private static readonly AnthropicUpstreamProtocol _protocol = AnthropicUpstreamProtocol.Instance;

    [Theory]
    [InlineData(ApiEndpoint.Messages, "messages")]
    [InlineData(ApiEndpoint.MessagesCountTokens, "messages/count_tokens")]
    public void PathFor_MessagesEndpoints(ApiEndpoint endpoint, string path) => Assert.Equal(path, _protocol.PathFor(endpoint));

    [Fact]
    public void ForwardedHeaders_VersionAndBetas() =>
        Assert.Equal(["anthropic-version", "anthropic-beta"], _protocol.ForwardedHeaders);

    [Fact]
    public void ReadResponse_Message_AllInputCacheReadsAndWritesAndText()
    {
        byte[] body = """{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"thinking","thinking":"hmm"},{"type":"text","text":"Hello"},{"type":"tool_use","id":"t","name":"get","input":{"city":"Paris"}}],"usage":{"input_tokens":10,"cache_creation_input_tokens":7,"cache_read_input_tokens":4,"cache_creation":{"ephemeral_5m_input_tokens":5,"ephemeral_1h_input_tokens":2},"output_tokens":12}}"""u8.ToArray();
        var generated = new StringBuilder();

        var scan = _protocol.ReadResponse(body, generated);

        Assert.True(scan.Valid && scan.HasUsage && !scan.UsageMalformed && !scan.IsError);
        Assert.Equal(new TokenUsage(21, 4, 12, 0) { CacheWrite5mTokens = 5, CacheWrite1hTokens = 2 }, scan.Usage);
        Assert.True(scan.UsageIsKnown(outputExpected: true, generated.Length));
        Assert.Equal("hmmHelloget{\"city\":\"Paris\"}", generated.ToString());
        Assert.Equal((byte)'}', body[scan.UsageEnd]);
    }

    [Fact]
    public void ReadResponse_CacheWritesWithoutParts_AreFiveMinuteWrites()
    {
        var scan = _protocol.ReadResponse("""{"type":"message","content":[],"usage":{"input_tokens":1,"cache_creation_input_tokens":3,"output_tokens":1}}"""u8, null);

        Assert.Equal(new TokenUsage(4, 0, 1, 0) { CacheWrite5mTokens = 3 }, scan.Usage);
    }

    [Theory]
    [InlineData("""{"input_tokens":-1,"output_tokens":1}""")]
    [InlineData("""{"input_tokens":"1","output_tokens":1}""")]
    [InlineData("""{"input_tokens":1,"output_tokens":1,"cache_creation_input_tokens":1,"cache_creation":{"ephemeral_1h_input_tokens":2}}""")]
    public void ReadResponse_ImpossibleUsage_Malformed(string usage)
    {
        var scan = _protocol.ReadResponse(Encoding.UTF8.GetBytes($$"""{"type":"message","content":[],"usage":{{usage}}}"""), null);

        Assert.True(scan.UsageMalformed);
        Assert.False(scan.UsageIsKnown(outputExpected: true, 0));
    }

    [Fact]
    public void ReadResponse_ErrorBody_IsError()
    {
        Assert.True(_protocol.ReadResponse("""{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"""u8, null).IsError);
    }

    [Fact]
    public void OpenStream_InputFromMessageStartJoinedToOutputFromMessageDelta()
    {
        var stream = _protocol.OpenStream();
        var generated = new StringBuilder();

        var start = stream.ReadEvent("""{"type":"message_start","message":{"id":"m","type":"message","content":[],"usage":{"input_tokens":20,"cache_read_input_tokens":5,"output_tokens":1}}}"""u8, generated);
        var delta = stream.ReadEvent("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi there"}}"""u8, generated);
        var json = stream.ReadEvent("""{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"""u8, generated);
        byte[] end = """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}"""u8.ToArray();
        var final = stream.ReadEvent(end, generated);

        Assert.False(start.HasUsage, "message_start's usage is only the input half: nothing is billed on it");
        Assert.False(delta.HasUsage || json.HasUsage);
        Assert.True(final.HasUsage && final.UsageIsKnown(outputExpected: true, generated.Length));
        Assert.Equal(new TokenUsage(25, 5, 9, 0), final.Usage);
        Assert.Equal((byte)'}', end[final.UsageEnd]);
        Assert.Equal("Hi there{\"a\":", generated.ToString());
    }

    [Fact]
    public void OpenStream_MessageDeltaWithInput_LaterCountsReplaceEarlierOnes()
    {
        var stream = _protocol.OpenStream();
        stream.ReadEvent("""{"type":"message_start","message":{"usage":{"input_tokens":20,"output_tokens":1}}}"""u8, null);

        var final = stream.ReadEvent("""{"type":"message_delta","delta":{},"usage":{"input_tokens":22,"cache_creation_input_tokens":4,"output_tokens":3}}"""u8, null);

        Assert.Equal(new TokenUsage(26, 0, 3, 0) { CacheWrite5mTokens = 4 }, final.Usage);
    }

    [Theory]
    [InlineData("""{"type":"message_stop"}""", true)]
    [InlineData("""{"type":"ping"}""", false)]
    [InlineData("""{"type":"content_block_delta","delta":{"type":"text_delta","text":"message_stop"}}""", false)]
    [InlineData("not json", false)]
    public void IsEndOfStream_OnlyMessageStop(string data, bool expected)
    {
        Assert.Equal(expected, _protocol.OpenStream().IsEndOfStream(Encoding.UTF8.GetBytes(data)));
    }

    [Fact]
    public void WriteRequest_CapLowered_ModelCapAndThinkingBudgetRewritten_RestByteForByte()
    {
        string body = """{ "model" : "alias", "max_tokens": 32000, "thinking": {"type":"enabled","budget_tokens": 16000}, "messages":[{"role":"user","content":"héllo \u00e9 😀"}] }""";
        Assert.True(AnthropicRequestReader.Messages.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        using var owned = request;
        var output = new ArrayBufferWriter<byte>();

        _protocol.WriteRequest(request!, new UpstreamRewrite("claude-real", "max_tokens", 4096), output);

        Assert.Equal("""{ "model" : "claude-real", "max_tokens": 4096, "thinking": {"type":"enabled","budget_tokens":4095}, "messages":[{"role":"user","content":"héllo \u00e9 😀"}] }""",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteRequest_CapUnchanged_NoStreamOptionsAdded()
    {
        string body = """{"model":"m","max_tokens":100,"stream":true,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"x"}]}""";
        Assert.True(AnthropicRequestReader.Messages.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        using var owned = request;
        var output = new ArrayBufferWriter<byte>();

        _protocol.WriteRequest(request!, new UpstreamRewrite("m", null, 100), output);

        Assert.Equal(body, Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
