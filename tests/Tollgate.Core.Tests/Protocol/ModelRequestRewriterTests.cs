using System.Buffers;
using System.Text;
using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class ModelRequestRewriterTests
{
    // Text that a re-serializing writer would escape (CJK, emoji, a surrogate pair written as an escape, HTML-like
    // characters), odd whitespace and number forms: all of it must reach the upstream as the caller wrote it.
    private const string Body = "{ \"model\" : \"m\",\n  \"messages\": [{\"role\":\"user\",\"content\":\"你好，世界 🚀👩‍💻 <b>&amp;</b> \\ud83d\\ude00 \\u00e9 é\"}],\n"
        + "  \"temperature\": 0.70, \"metadata\": {\"note\": \"日本語\"}\t}";

    [Fact]
    public void Write_NothingToRewrite_IsTheCallersBytesExactly()
    {
        using var request = Parse(Body, ApiEndpoint.ChatCompletions);

        Assert.Equal(Encoding.UTF8.GetBytes(Body), Rewrite(request, "m", null, 0));
    }

    [Fact]
    public void Write_ModelAlias_ReplacesOnlyTheModelValue()
    {
        using var request = Parse(Body, ApiEndpoint.ChatCompletions);

        byte[] expected = Encoding.UTF8.GetBytes(Body.Replace("\"model\" : \"m\"", "\"model\" : \"gpt-4o-mini-2024-07-18\"", StringComparison.Ordinal));
        Assert.Equal(expected, Rewrite(request, "gpt-4o-mini-2024-07-18", null, 0));
    }

    [Fact]
    public void Write_Stream_AddsIncludeUsageBeforeTheClosingBraceAndKeepsTheRest()
    {
        string body = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"🙂 中文\"}]}";
        using var request = Parse(body, ApiEndpoint.ChatCompletions);

        string written = Encoding.UTF8.GetString(Rewrite(request, "m", null, 0));

        Assert.Equal(body[..^1] + ",\"stream_options\":{\"include_usage\":true}}", written);
    }

    [Fact]
    public void Write_StreamOptionsWithoutUsage_RewritesOnlyThatValue()
    {
        string body = "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":false,\"x\":1},\"messages\":[{\"role\":\"user\",\"content\":\"ok\"}]}";
        using var request = Parse(body, ApiEndpoint.ChatCompletions);

        string written = Encoding.UTF8.GetString(Rewrite(request, "m", null, 0));

        Assert.Equal(body.Replace("{\"include_usage\":false,\"x\":1}", "{\"x\":1,\"include_usage\":true}", StringComparison.Ordinal), written);
    }

    [Fact]
    public void Write_StreamOptionsAlreadyAskingForUsage_IsUnchanged()
    {
        string body = "{\"model\":\"m\",\"stream\":true,\"stream_options\":{ \"include_usage\" : true },\"messages\":[{\"role\":\"user\",\"content\":\"ok\"}]}";
        using var request = Parse(body, ApiEndpoint.ChatCompletions);

        Assert.Equal(body, Encoding.UTF8.GetString(Rewrite(request, "m", null, 0)));
    }

    [Theory]
    [InlineData("{\"model\":\"m\",\"max_tokens\":9000,\"messages\":[]}", "max_tokens", "{\"model\":\"m\",\"max_tokens\":512,\"messages\":[]}")]
    [InlineData("{\"model\":\"m\",\"messages\":[],\"max_completion_tokens\" :  9000 }", "max_completion_tokens", "{\"model\":\"m\",\"messages\":[],\"max_completion_tokens\" :  512 }")]
    [InlineData("{\"model\":\"m\",\"messages\":[]}", "max_completion_tokens", "{\"model\":\"m\",\"messages\":[],\"max_completion_tokens\":512}")]
    [InlineData("{\"model\":\"m\",\"max_tokens\":9000,\"messages\":[]}", "max_completion_tokens", "{\"model\":\"m\",\"messages\":[],\"max_completion_tokens\":512}")]
    [InlineData("{\"model\":\"m\",\"messages\":[], \"max_tokens\":9000 }", "max_completion_tokens", "{\"model\":\"m\",\"messages\":[] ,\"max_completion_tokens\":512}")]
    public void Write_CapChanged_SetsTheCapFieldAndDropsTheOther(string body, string capField, string expected)
    {
        using var request = Parse(body.Replace("[]", "[{\"role\":\"user\",\"content\":\"x\"}]", StringComparison.Ordinal), ApiEndpoint.ChatCompletions);

        string written = Encoding.UTF8.GetString(Rewrite(request, "m", capField, 512));

        Assert.Equal(expected.Replace("[]", "[{\"role\":\"user\",\"content\":\"x\"}]", StringComparison.Ordinal), written);
        using var check = JsonDocument.Parse(written);
        Assert.Equal(512, check.RootElement.GetProperty(capField).GetInt64());
    }

    [Fact]
    public void Write_Embeddings_KeepsPreTokenizedInputExactly()
    {
        string body = "{\"model\":\"m\",\"input\":[[1,2,3],[40000, 5]],\"encoding_format\":\"float\"}";
        using var request = Parse(body, ApiEndpoint.Embeddings);

        Assert.Equal(body.Replace("\"m\"", "\"text-embedding-3-small\"", StringComparison.Ordinal),
            Encoding.UTF8.GetString(Rewrite(request, "text-embedding-3-small", null, 0)));
    }

    private static ModelRequest Parse(string body, ApiEndpoint endpoint)
    {
        Assert.True(ModelRequestParser.TryParse(Encoding.UTF8.GetBytes(body), endpoint, out var request, out var error), error?.Message);
        return request!;
    }

    private static byte[] Rewrite(ModelRequest request, string upstreamModel, string? capField, long cap)
    {
        var output = new ArrayBufferWriter<byte>();
        ModelRequestRewriter.Write(request, upstreamModel, capField, cap, output);
        return output.WrittenSpan.ToArray();
    }
}
