using System.Text;
using Tollgate.Caching;
using Tollgate.Configuration;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Caching;

public sealed class ResponseCacheKeysTests
{
    private const string Body = """{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2}""";
    private static readonly ResponseCacheNamespace s_acme = ResponseCacheNamespace.For(CacheNamespaces.Tenant, "acme", "alice");

    [Theory]
    [InlineData("""{"temperature":0.2,"max_completion_tokens":100,"messages":[{"content":"Tides?","role":"user"}],"model":"m-2025"}""")]
    [InlineData("""
        {
          "model" : "m-2025",
          "messages" : [ { "role" : "user", "content" : "Tides?" } ],
          "max_completion_tokens" : 100,
          "temperature" : 0.2
        }
        """)]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tide\u0073?"}],"max_completion_tokens":100,"temperature":0.2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2,"stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2,"prompt_cache_key":"k-9"}""")]
    [InlineData("""{"\u006dodel":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2}""")]
    public void SameMeaning_SameKey(string body)
    {
        Assert.Equal(KeyOf(Body), KeyOf(body));
    }

    [Theory]
    [InlineData("""{"model":"m-2024","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides!"}],"max_completion_tokens":100,"temperature":0.2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"tides?"}],"max_completion_tokens":100,"temperature":0.2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"system","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":101,"temperature":0.2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_tokens":100,"temperature":0.2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.3}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.20}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2,"seed":1}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2,"n":2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2,"user":"u1"}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2,"safety_identifier":"u1"}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2,"logprobs":true}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2,"tools":[]}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"}],"max_completion_tokens":100,"temperature":0.2,"response_format":{"type":"json_object"}}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?"},{"role":"user","content":""}],"max_completion_tokens":100,"temperature":0.2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":["Tides?"]}],"max_completion_tokens":100,"temperature":0.2}""")]
    [InlineData("""{"model":"m-2025","messages":[{"role":"user","content":"Tides?","stream":true}],"max_completion_tokens":100,"temperature":0.2}""")]
    public void AnswerChangingDifference_DifferentKey(string body)
    {
        Assert.NotEqual(KeyOf(Body), KeyOf(body));
    }

    [Fact]
    public void StringsThatRunTogether_NeverCollide()
    {
        // Without length prefixes ["ab","c"] and ["a","bc"] would write the same bytes.
        Assert.NotEqual(KeyOf("""{"x":["ab","c"]}"""), KeyOf("""{"x":["a","bc"]}"""));
        Assert.NotEqual(KeyOf("""{"x":"1"}"""), KeyOf("""{"x":1}"""));
        Assert.NotEqual(KeyOf("""{"x":{"a":"b"}}"""), KeyOf("""{"x":["a","b"]}"""));
        Assert.NotEqual(KeyOf("""{"x":null}"""), KeyOf("""{"x":false}"""));
        Assert.NotEqual(KeyOf("""{"x":"null"}"""), KeyOf("""{"x":null}"""));
    }

    [Fact]
    public void Namespace_Model_Upstream_AndEndpoint_AllCount()
    {
        var key = KeyOf(Body);

        Assert.NotEqual(key, KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.Tenant, "globex", "alice")));
        Assert.Equal(key, KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.Tenant, "acme", "bob")));
        Assert.NotEqual(key, KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.User, "acme", "alice")));
        Assert.NotEqual(KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.User, "acme", "alice")),
            KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.User, "acme", "bob")));
        Assert.Equal(KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.Shared, "acme", "alice")),
            KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.Shared, "globex", "bob")));
        Assert.NotEqual(key, KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.Shared, "acme", "alice")));
        Assert.NotEqual(key, KeyOf(Body, model: "other"));
        Assert.NotEqual(key, KeyOf(Body, upstream: "other"));
        Assert.NotEqual(key, KeyOf(Body, endpoint: ApiEndpoint.Completions));
    }

    [Fact]
    public void TenantAndUserNames_AreFramed_SoTheyCannotShiftIntoEachOther()
    {
        Assert.NotEqual(
            KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.User, "ac", "mealice")),
            KeyOf(Body, scope: ResponseCacheNamespace.For(CacheNamespaces.User, "acme", "alice")));
    }

    [Fact]
    public void NotJson_HasNoKey()
    {
        Assert.False(ResponseCacheKeys.TryCompute(s_acme, ApiEndpoint.ChatCompletions, "m", "u", Encoding.UTF8.GetBytes("{\"model\":"), out _));
    }

    [Fact]
    public void Key_PrintsAsItsHash()
    {
        var key = KeyOf(Body);

        Assert.Matches("^[0-9a-f]{64}$", key.ToString());
        Assert.Equal(key, ResponseCacheKey.FromHash(Convert.FromHexString(key.ToString())));
    }

    private static ResponseCacheKey KeyOf(string body, ResponseCacheNamespace? scope = null, string model = "m", string upstream = "u",
        ApiEndpoint endpoint = ApiEndpoint.ChatCompletions)
    {
        Assert.True(ResponseCacheKeys.TryCompute(scope ?? s_acme, endpoint, model, upstream, Encoding.UTF8.GetBytes(body), out var key));
        return key;
    }
}
