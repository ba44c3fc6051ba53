using System.Text;
using System.Text.Json;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;
using static Tollgate.Core.Tests.Protocol.Translation.TranslationAssert;

namespace Tollgate.Core.Tests.Protocol.Translation;

/// <summary>
/// Rows of the Messages → chat completions matrix (docs/api.md, "Translation") one by one: what is dropped, what is
/// refused, what headers go upstream, and a chat refusal coming back as text, whole and streamed.
/// </summary>
public sealed class MessagesOverChatRowsTests
{
    private static readonly ITranslatingProtocol s_protocol = new MessagesOverChat(OpenAIUpstreamProtocol.Instance);
    private static readonly UpstreamRewrite s_rewrite = new("upstream-model", null, 300) { ChatCapField = "max_completion_tokens" };

    [Theory]
    [InlineData("""{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}""", "document")]
    [InlineData("""{"type":"search_result","source":"s","title":"t","content":[]}""", "search_result")]
    public void CheckTranslatable_ToolResultHoldingAnotherBlock_400NamingTheBlocksType(string block, string type)
    {
        using var request = Messages($$$"""
            {"model":"m","max_tokens":5,"messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"ok"},{{{block}}}]}]}]}
            """);

        var refusal = s_protocol.CheckTranslatable(request);

        Assert.NotNull(refusal);
        Assert.Equal((400, ErrorCodes.ParamNotSupported, "messages.2.content.0.content.1.type"), (refusal!.Status, refusal.Code, refusal.Param));
        Assert.Contains($"'{type}'", refusal.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("output_config", """{"effort":"low"}""")]
    [InlineData("inference_geo", "\"us\"")]
    public void CheckTranslatable_AnyOtherField_400NamingIt(string field, string value)
    {
        using var request = Messages($$$"""{"model":"m","max_tokens":5,"{{{field}}}":{{{value}}},"messages":[{"role":"user","content":"hi"}]}""");

        var refusal = s_protocol.CheckTranslatable(request);

        Assert.NotNull(refusal);
        Assert.Equal((400, ErrorCodes.ParamNotSupported, field), (refusal!.Status, refusal.Code, refusal.Param));
    }

    [Fact]
    public void WriteRequest_CitationsAndRedactedThinking_Dropped()
    {
        using var request = Messages("""
            {"model":"m","max_tokens":5,"messages":[
              {"role":"user","content":"Where is the Louvre?"},
              {"role":"assistant","content":[
                {"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix"},
                {"type":"text","text":"In Paris.","citations":[{"type":"char_location","cited_text":"Paris","document_index":0,"document_title":"Guide","start_char_index":0,"end_char_index":5}]}]},
              {"role":"user","content":[{"type":"text","text":"Thanks","citations":null}]}]}
            """);
        Assert.Null(s_protocol.CheckTranslatable(request));

        string body = Written(output => s_protocol.WriteRequest(request, s_rewrite, output));

        SameJson("""
            {"model":"upstream-model","max_completion_tokens":300,
             "messages":[{"role":"user","content":"Where is the Louvre?"},{"role":"assistant","content":"In Paris."},{"role":"user","content":"Thanks"}]}
            """, body);
    }

    [Fact]
    public void ForwardedHeaders_None_AnthropicVersionAndBetaStayBehind()
    {
        Assert.Empty(s_protocol.ForwardedHeaders);
        Assert.Contains("anthropic-beta", AnthropicUpstreamProtocol.Instance.ForwardedHeaders);
    }

    [Fact]
    public void TranslateResponse_ChatRefusal_TextBlock()
    {
        using var request = Messages("""{"model":"claude-x","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""");
        byte[] chat = """
            {"id":"chatcmpl-r","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":8,"completion_tokens":6}}
            """u8.ToArray();

        byte[] answer = s_protocol.TranslateResponse(chat, request, new TranslatedUsage(new TokenUsage(8, 0, 6, 0), 77, Estimated: false));

        SameJson("""
            {"id":"msg_chatcmpl-r","type":"message","role":"assistant","model":"claude-x",
             "content":[{"type":"text","text":"I can't help with that."}],
             "stop_reason":"end_turn","stop_sequence":null,
             "usage":{"input_tokens":8,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":6,"cost_nanousd":77}}
            """, Encoding.UTF8.GetString(answer));
    }

    [Fact]
    public void Stream_ChatRefusalDeltas_TextDeltasOfOneTextBlock()
    {
        using var request = Messages("""{"model":"claude-x","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        string[] chunks =
        [
            """{"id":"chatcmpl-r","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""},"finish_reason":null}]}""",
            """{"id":"chatcmpl-r","choices":[{"index":0,"delta":{"refusal":"I can't"},"finish_reason":null}]}""",
            """{"id":"chatcmpl-r","choices":[{"index":0,"delta":{"refusal":" help."},"finish_reason":null}]}""",
            """{"id":"chatcmpl-r","choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]}""",
        ];
        var translator = s_protocol.OpenTranslator(request);

        string stream = Written(output =>
        {
            foreach (string chunk in chunks)
            {
                byte[] data = Encoding.UTF8.GetBytes(chunk);
                translator.Translate(data, s_protocol.ReadEvent(data, null), output);
            }

            translator.Finish(new TranslatedUsage(new TokenUsage(8, 0, 4, 0), 50, false), output);
        });

        var events = Events(stream);
        string[] expected =
        [
            """{"type":"message_start","message":{"id":"msg_chatcmpl-r","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}""",
            """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I can't"}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" help."}}""",
            """{"type":"content_block_stop","index":0}""",
            """{"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null},"usage":{"input_tokens":8,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":4,"cost_nanousd":50}}""",
        ];
        Assert.Equal(expected.Length, events.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            SameJson(expected[i], events[i].Data);
            Assert.Equal(JsonDocument.Parse(events[i].Data).RootElement.GetProperty("type").GetString(), events[i].Event);
        }
    }
}
