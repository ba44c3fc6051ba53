using System.Buffers;
using System.Text;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Tokenization;

namespace Tollgate.Core.Tests.Protocol;

public sealed class AnthropicRequestReaderTests
{
    private static ModelRequest Read(string body, AnthropicRequestReader? reader = null)
    {
        Assert.True((reader ?? AnthropicRequestReader.Messages).TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        return request!;
    }

    private static GatewayError Refuse(string body, AnthropicRequestReader? reader = null)
    {
        Assert.False((reader ?? AnthropicRequestReader.Messages).TryRead(Encoding.UTF8.GetBytes(body), out _, out var refusal));
        return refusal!;
    }

    [Fact]
    public void TryRead_Message_ModelCapStreamAndUsageAlwaysStreamed()
    {
        using var request = Read("""{"model":"claude","max_tokens":300,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal((ApiEndpoint.Messages, "claude", 300L, true, true), (request.Endpoint, request.Model, request.MaxTokens, request.Stream, request.IncludeUsage));
        Assert.Equal("max_tokens", request.OutputCapField);
        Assert.Equal(1, request.OutputMultiplier);
        Assert.Equal(CacheWrites.None, request.CacheWrites);
        Assert.Null(request.ThinkingBudget);
    }

    [Theory]
    [InlineData("""{"model":"c","messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"c","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"c","max_tokens":"5","messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"c","max_tokens":5,"messages":[]}""", "messages")]
    [InlineData("""{"model":"c","max_tokens":5,"messages":[{"role":"system","content":"hi"}]}""", "messages.0.role")]
    [InlineData("""{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"text":"no type"}]}]}""", "messages.0.content.0")]
    [InlineData("""{"model":"c","max_tokens":5,"messages":[{"role":"user","content":7}]}""", "messages.0.content")]
    [InlineData("""{"model":"c","max_tokens":5,"stream":"yes","messages":[{"role":"user","content":"hi"}]}""", "stream")]
    [InlineData("""{"model":"c","max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":100},"messages":[{"role":"user","content":"hi"}]}""", "thinking.budget_tokens")]
    [InlineData("""{"model":"c","max_tokens":5,"system":5,"messages":[{"role":"user","content":"hi"}]}""", "system")]
    public void TryRead_Malformed_400NamingTheField(string body, string param)
    {
        var refusal = Refuse(body);

        Assert.Equal((400, ErrorTypes.InvalidRequest, param), (refusal.Status, refusal.Type, refusal.Param));
    }

    [Fact]
    public void TryRead_DuplicateKey_400()
    {
        Assert.Equal(400, Refuse("""{"model":"c","model":"d","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""").Status);
    }

    [Fact]
    public void TryRead_CountTokens_NoMaxTokensNeeded()
    {
        using var request = Read("""{"model":"c","messages":[{"role":"user","content":"hi"}]}""", AnthropicRequestReader.CountTokens);

        Assert.Equal(ApiEndpoint.MessagesCountTokens, request.Endpoint);
        Assert.Null(request.MaxTokens);
    }

    [Theory]
    [InlineData("""{"type":"text","text":"x","cache_control":{"type":"ephemeral"}}""", CacheWrites.FiveMinutes)]
    [InlineData("""{"type":"text","text":"x","cache_control":{"type":"ephemeral","ttl":"5m"}}""", CacheWrites.FiveMinutes)]
    [InlineData("""{"type":"text","text":"x","cache_control":{"type":"ephemeral","ttl":"1h"}}""", CacheWrites.OneHour)]
    [InlineData("""{"type":"text","text":"x"}""", CacheWrites.None)]
    public void TryRead_CacheControl_TheLongestLifetimeAskedFor(string block, CacheWrites expected)
    {
        using var request = Read($$"""{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{{block}}]}]}""");

        Assert.Equal(expected, request.CacheWrites);
    }

    [Fact]
    public void TryRead_ThinkingEnabled_BudgetAndMinimumCap()
    {
        using var request = Read("""{"model":"c","max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":2048},"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(2048, request.ThinkingBudget);
        Assert.Equal(AnthropicRequestReader.MinThinkingBudget + 1, request.MinOutputCap);
    }

    [Fact]
    public void TryRead_PdfDocument_CountedAsADocumentBlock_TextDocumentIsNot()
    {
        using var request = Read("""{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain words"}}]}]}""");

        Assert.Equal(1, request.DocumentBlocks);
    }

    [Fact]
    public void CountInput_SystemMessagesToolsAndImages_AsTheSharedCounterCounts()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.Cl100kBase);
        using var plain = Read("""{"model":"c","max_tokens":5,"messages":[{"role":"user","content":"hello world"}]}""");
        using var richer = Read("""{"model":"c","max_tokens":5,"system":"Be brief.","tools":[{"name":"t","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hello world"},{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]}]}""");

        long basic = plain.CountInput(counter);
        long withAll = richer.CountInput(counter);

        Assert.Equal(3 + counter.Count("hello world") + 3, basic);
        Assert.Equal(basic + counter.Count("Be brief.") + MessagesTokenCounter.ToolUseSystemPromptTokens
            + counter.Count("""[{"name":"t","input_schema":{"type":"object"}}]""") + MessagesTokenCounter.MaxImageTokens, withAll);
    }

    [Fact]
    public void CountInput_ServerToolResultsMcpUsesAndOutputFormat_CountedAsTheirJson()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.Cl100kBase);
        const string Result = """{"type":"code_execution_tool_result","tool_use_id":"s1","content":{"type":"code_execution_result","stdout":"a long output","stderr":"","return_code":0}}""";
        const string Mcp = """{"type":"mcp_tool_use","id":"m1","name":"q","server_name":"srv","input":{"query":"what the tool was asked"}}""";
        const string Format = """{"type":"json_schema","schema":{"type":"object","description":"the answer's shape"}}""";
        using var request = Read($$"""{"model":"c","max_tokens":5,"output_format":{{Format}},"messages":[{"role":"assistant","content":[{{Mcp}},{{Result}}]}]}""");

        Assert.Equal(3 + counter.Count(Mcp) + counter.Count(Result) + 3 + counter.Count(Format), request.CountInput(counter));
    }

    [Theory]
    [InlineData(1000, 1000, 1334)]
    [InlineData(200, 200, 54)]
    [InlineData(4000, 3000, 1534)]
    [InlineData(0, 10, MessagesTokenCounter.MaxImageTokens)]
    public void ImageTokens_WidthTimesHeightOver750AfterResizing(int width, int height, int expected) =>
        Assert.Equal(expected, MessagesTokenCounter.ImageTokens(width, height));

    [Fact]
    public void InputText_SystemTextBlocksAndToolResults()
    {
        using var request = Read("""{"model":"c","max_tokens":5,"system":"sys","messages":[{"role":"user","content":[{"type":"text","text":"one"},{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"two"}]}]}]}""");

        Assert.Equal("sys\none\ntwo\n", request.InputText());
        Assert.Equal("sys\non", request.InputText(6));
        Assert.Equal("sys\none\n", request.InputText(8));
    }
}
