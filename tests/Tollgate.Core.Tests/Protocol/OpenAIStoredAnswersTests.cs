using System.Text;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class OpenAIStoredAnswersTests
{
    [Theory]
    [InlineData(ApiEndpoint.ChatCompletions, """{"choices":[{"index":0,"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}""", true)]
    [InlineData(ApiEndpoint.ChatCompletions, """{"choices":[{"finish_reason":"stop"},{"finish_reason":"length"}]}""", true)]
    [InlineData(ApiEndpoint.ChatCompletions, """{"choices":[{"finish_reason":"stop"},{"finish_reason":"content_filter"}]}""", false)]
    [InlineData(ApiEndpoint.ChatCompletions, """{"choices":[{"finish_reason":null}]}""", false)]
    [InlineData(ApiEndpoint.ChatCompletions, """{"choices":[{"message":{"content":"hi"}}]}""", false)]
    [InlineData(ApiEndpoint.ChatCompletions, """{"choices":[]}""", false)]
    [InlineData(ApiEndpoint.ChatCompletions, """{"error":{"message":"no"},"choices":[{"finish_reason":"stop"}]}""", false)]
    [InlineData(ApiEndpoint.ChatCompletions, """[{"finish_reason":"stop"}]""", false)]
    [InlineData(ApiEndpoint.ChatCompletions, """{"choices":[{"finish_reason":"stop"}""", false)]
    [InlineData(ApiEndpoint.Completions, """{"choices":[{"text":"hi","finish_reason":"stop"}]}""", true)]
    [InlineData(ApiEndpoint.Embeddings, """{"data":[{"embedding":[0.1]}],"usage":{"prompt_tokens":1}}""", true)]
    [InlineData(ApiEndpoint.Embeddings, """{"data":null}""", false)]
    public void IsStorable_OnlyCompleteUnfilteredAnswers(ApiEndpoint endpoint, string body, bool storable)
    {
        Assert.Equal(storable, OpenAIUpstreamProtocol.Instance.IsStorableAnswer(endpoint, Encoding.UTF8.GetBytes(body)));
    }
}
