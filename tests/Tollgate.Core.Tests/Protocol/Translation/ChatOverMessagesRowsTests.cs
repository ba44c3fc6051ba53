using Microsoft.Extensions.Time.Testing;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;
using static Tollgate.Core.Tests.Protocol.Translation.TranslationAssert;

namespace Tollgate.Core.Tests.Protocol.Translation;

/// <summary>Rows of the chat completions → Messages matrix (docs/api.md, "Translation") one by one: what passes, what is dropped, what is refused.</summary>
public sealed class ChatOverMessagesRowsTests
{
    private static readonly FakeTimeProvider s_time = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
    private static readonly ITranslatingProtocol s_protocol = new ChatOverMessages(AnthropicUpstreamProtocol.Instance, s_time);
    private static readonly UpstreamRewrite s_rewrite = new("claude-upstream", null, 512);

    [Fact]
    public void WriteRequest_SafetyIdentifier_MetadataUserId()
    {
        string body = Translate("""{"model":"m","safety_identifier":"hash-42","messages":[{"role":"user","content":"hi"}]}""");

        SameJson("""{"model":"claude-upstream","max_tokens":512,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"metadata":{"user_id":"hash-42"}}""", body);
    }

    [Theory]
    [InlineData("\"modalities\":[\"text\"]")]
    [InlineData("\"service_tier\":\"auto\"")]
    [InlineData("\"service_tier\":\"default\"")]
    [InlineData("\"prompt_cache_key\":\"session-7\"")]
    [InlineData("\"logit_bias\":{}")]
    [InlineData("\"modalities\":[\"text\"],\"service_tier\":\"default\",\"prompt_cache_key\":\"k\",\"logit_bias\":{}")]
    public void WriteRequest_FieldsWithoutEffect_PassAndAreNotSent(string fields)
    {
        string body = Translate($$$"""{"model":"m",{{{fields}}},"messages":[{"role":"user","content":"hi"}]}""");

        SameJson("""{"model":"claude-upstream","max_tokens":512,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}""", body);
    }

    [Fact]
    public void WriteRequest_TopK_Forwarded()
    {
        string body = Translate("""{"model":"m","top_k":40,"messages":[{"role":"user","content":"hi"}]}""");

        SameJson("""{"model":"claude-upstream","max_tokens":512,"top_k":40,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}""", body);
    }

    [Fact]
    public void WriteRequest_AssistantRefusalParts_TextBlocks()
    {
        string body = Translate("""
            {"model":"m","messages":[
              {"role":"user","content":"Do the thing."},
              {"role":"assistant","content":[{"type":"refusal","refusal":"I can't do that."},{"type":"text","text":"Anything else?"}]},
              {"role":"user","content":"Fine."}]}
            """);

        SameJson("""
            {"model":"claude-upstream","max_tokens":512,"messages":[
              {"role":"user","content":[{"type":"text","text":"Do the thing."}]},
              {"role":"assistant","content":[{"type":"text","text":"I can't do that."},{"type":"text","text":"Anything else?"}]},
              {"role":"user","content":[{"type":"text","text":"Fine."}]}]}
            """, body);
    }

    [Fact]
    public void CheckTranslatable_AssistantFunctionCall_400NamingIt()
    {
        using var request = Chat("""
            {"model":"m","messages":[
              {"role":"user","content":"a"},
              {"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}},
              {"role":"user","content":"b"}]}
            """);

        var refusal = s_protocol.CheckTranslatable(request);

        Assert.NotNull(refusal);
        Assert.Equal((400, ErrorCodes.ParamNotSupported, "messages.1.function_call"), (refusal!.Status, refusal.Code, refusal.Param));
    }

    private static string Translate(string chat)
    {
        using var request = Chat(chat);
        Assert.Null(s_protocol.CheckTranslatable(request));
        return Written(output => s_protocol.WriteRequest(request, s_rewrite, output));
    }
}
