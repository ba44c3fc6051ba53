using System.Text;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class ResponseScannerUsageTests
{
    [Fact]
    public void Scan_WellFormedUsage_IsKnown()
    {
        var scan = Scan("""{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":1}}}""", out int chars);

        Assert.True(scan.UsageIsKnown(outputExpected: true, chars));
        Assert.Equal(new TokenUsage(5, 3, 2, 1), scan.Usage);
    }

    [Theory]
    [InlineData("""{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}} {"more":1}""")]
    [InlineData("""{"a":1}{"b":2}""")]
    [InlineData("""{"a":1},""")]
    public void ScanResponse_SomethingAfterTheObject_NotValid(string body)
    {
        // Found by the upstream fuzz: a body of two JSON values was relayed to the caller as a 200.
        Assert.False(ResponseScanner.Scan(Encoding.UTF8.GetBytes(body), null).Valid);
        Assert.True(ResponseScanner.Scan("""{"a":1}  """u8 + "\n"u8, null).Valid);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"prompt_tokens":"5","completion_tokens":"2"}""")]
    [InlineData("""{"prompt_tokens":-1,"completion_tokens":2}""")]
    [InlineData("""{"prompt_tokens":5,"completion_tokens":2.5}""")]
    [InlineData("""{"prompt_tokens":5,"completion_tokens":99999999999999999999}""")]
    [InlineData("""{"prompt_tokens":5,"completion_tokens":0}""")]
    [InlineData("""{"prompt_tokens":5}""")]
    [InlineData("""{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":6}}""")]
    [InlineData("""{"prompt_tokens":5,"completion_tokens":2,"completion_tokens_details":{"reasoning_tokens":3}}""")]
    [InlineData("\"5\"")]
    [InlineData("7")]
    public void Scan_MalformedUsage_IsUnknown(string usage)
    {
        var scan = Scan("""{"choices":[{"message":{"content":"hi"}}],"usage":""" + usage + "}", out int chars);

        Assert.True(scan.HasUsage);
        Assert.False(scan.UsageIsKnown(outputExpected: true, chars));
    }

    [Fact]
    public void Scan_EmbeddingUsageWithoutCompletionTokens_IsKnownWhenNoOutputIsExpected()
    {
        var scan = Scan("""{"data":[],"usage":{"prompt_tokens":8,"total_tokens":8}}""", out int chars);

        Assert.True(scan.UsageIsKnown(outputExpected: false, chars));
        Assert.False(scan.UsageIsKnown(outputExpected: true, chars));
    }

    [Fact]
    public void Scan_NullCountsAreAbsent_NotMalformed()
    {
        var scan = Scan("""{"usage":{"prompt_tokens":4,"completion_tokens":0,"prompt_tokens_details":{"cached_tokens":null}}}""", out int chars);

        Assert.Equal(0, chars);
        Assert.True(scan.UsageIsKnown(outputExpected: true, chars));
    }

    [Fact]
    public void Scan_InvalidUtf8AndLoneSurrogatesInText_AreCountedNotThrown()
    {
        byte[] body = [.. "{\"choices\":[{\"delta\":{\"content\":\"a"u8, 0xFF, .. " \\ud800 b\"}}]}"u8];
        var generated = new StringBuilder();

        var scan = ResponseScanner.Scan(body, generated);

        Assert.True(scan.Valid);
        Assert.Equal(1, scan.Choices);
        Assert.StartsWith("a", generated.ToString(), StringComparison.Ordinal);
        Assert.EndsWith(" b", generated.ToString(), StringComparison.Ordinal);
    }

    private static ResponseScan Scan(string json, out int generatedChars)
    {
        var generated = new StringBuilder();
        var scan = ResponseScanner.Scan(Encoding.UTF8.GetBytes(json), generated);
        generatedChars = generated.Length;
        return scan;
    }
}
