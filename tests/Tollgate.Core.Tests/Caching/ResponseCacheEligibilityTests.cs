using System.Text;
using Tollgate.Caching;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Caching;

public sealed class ResponseCacheEligibilityTests
{
    [Theory]
    [InlineData("")]
    [InlineData(""","store":false,"background":false,"previous_response_id":null,"conversation":null""")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}},{"type":"custom","custom":{"name":"g"}}]""")]
    [InlineData(""","web_search_options":null""")]
    public void Exclusion_StatelessRequest_None(string extra)
    {
        using var request = Parse(extra);

        Assert.Null(ResponseCacheEligibility.Exclusion(request));
    }

    [Theory]
    [InlineData(",\"previous_response_id\":\"resp_1\"", "previous_response_id")]
    [InlineData(""","background":true""", "background")]
    [InlineData(",\"conversation\":\"conv_1\"", "conversation")]
    [InlineData(""","conversation":{"id":"conv_1"}""", "conversation")]
    [InlineData(""","store":true""", "store")]
    [InlineData(""","web_search_options":{}""", "web_search_options")]
    [InlineData(""","prompt":{"id":"pmpt_1"}""", "prompt")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}},{"type":"web_search"}]""", "tools")]
    [InlineData(""","tools":[{"type":"file_search","vector_store_ids":["vs_1"]}]""", "tools")]
    [InlineData(""","tools":[{"type":"mcp","server_url":"https://example.com"}]""", "tools")]
    [InlineData(""","tools":[{"function":{"name":"f"}}]""", "tools")]
    public void Exclusion_ProviderSideStateOrHostedTools_NamesTheField(string extra, string field)
    {
        using var request = Parse(extra);

        Assert.Equal(field, ResponseCacheEligibility.Exclusion(request));
    }

    private static ModelRequest Parse(string extra)
    {
        string body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" + extra + "}";
        Assert.True(OpenAIRequestReader.ChatCompletions.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        return request!;
    }
}
