using System.Text;
using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class CostInjectorTests
{
    [Fact]
    public void Inject_EmptyUsageObject_CostIsItsOnlyMember()
    {
        Assert.Equal("""{"id":"x","usage":{"cost_nanousd":1234}}""", Inject("""{"id":"x","usage":{}}""", 1234));
    }

    [Fact]
    public void Inject_UsageWithMembers_CostAppendedAfterThem()
    {
        Assert.Equal("""{"usage":{"prompt_tokens":3,"completion_tokens":4,"cost_nanousd":7},"id":"x"}""",
            Inject("""{"usage":{"prompt_tokens":3,"completion_tokens":4},"id":"x"}""", 7));
    }

    [Fact]
    public void Inject_NestedDetailsAndLaterObjects_CostGoesInTheUsageObjectItself()
    {
        const string Body = """{"choices":[{"message":{"content":"}"}}],"usage":{"prompt_tokens":3,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens":4},"meta":{"a":{}}}""";

        string injected = Inject(Body, 99);

        using var document = JsonDocument.Parse(injected);
        var usage = document.RootElement.GetProperty("usage");
        Assert.Equal(99, usage.GetProperty(CostInjector.Field).GetInt64());
        Assert.False(usage.GetProperty("prompt_tokens_details").TryGetProperty(CostInjector.Field, out _));
        Assert.Equal(Body.Length + ",\"cost_nanousd\":99".Length, injected.Length);
        Assert.Equal(Body.Replace("\"completion_tokens\":4}", "\"completion_tokens\":4,\"cost_nanousd\":99}", StringComparison.Ordinal), injected);
    }

    [Fact]
    public void Inject_OtherBytes_LeftAsTheUpstreamSentThem()
    {
        const string Body = "{ \"usage\" : { \"prompt_tokens\" : 1 } ,\n \"note\": \"\\u00e9 é\" }";

        Assert.Equal("{ \"usage\" : { \"prompt_tokens\" : 1 ,\"cost_nanousd\":5} ,\n \"note\": \"\\u00e9 é\" }", Inject(Body, 5));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void Inject_EveryLong_WrittenInFull(long cost)
    {
        string expected = "{\"usage\":{\"prompt_tokens\":1,\"cost_nanousd\":" + cost.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}";
        Assert.Equal(expected, Inject("{\"usage\":{\"prompt_tokens\":1}}", cost));
        Assert.Equal("{\"usage\":{\"cost_nanousd\":" + cost.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}", Inject("{\"usage\":{}}", cost));
    }

    [Fact]
    public void SseEvent_Json_OneDataEvent()
    {
        Assert.Equal("data: {\"a\":1}\n\n", Encoding.UTF8.GetString(CostInjector.SseEvent("{\"a\":1}"u8)));
    }

    private static string Inject(string body, long cost)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        var scan = ResponseScanner.Scan(bytes, null);
        Assert.True(scan.HasUsage);
        return Encoding.UTF8.GetString(CostInjector.Inject(bytes, scan.UsageEnd, scan.UsageEmpty, cost));
    }
}
