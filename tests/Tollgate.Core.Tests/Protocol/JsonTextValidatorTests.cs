using System.Text;
using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class JsonTextValidatorTests
{
    [Theory]
    [InlineData("plain ascii")]
    [InlineData("漢字 and emoji 😀")]
    [InlineData("escaped pair \\ud83d\\ude00 and \\u00e9 and \\\\u d800 literal")]
    [InlineData("quotes \\\" and backslash \\\\")]
    public void IsValid_ValidText_True(string raw) => Assert.True(JsonTextValidator.IsValid(Encoding.UTF8.GetBytes(raw)));

    [Theory]
    [InlineData("x \\ud800 y")]
    [InlineData("x \\udc00 y")]
    [InlineData("x \\ud800\\u0041")]
    [InlineData("end \\ud83d")]
    [InlineData("end \\ud83d\\")]
    [InlineData("two highs \\ud83d\\ud83d")]
    public void IsValid_BrokenSurrogateEscapes_False(string raw) => Assert.False(JsonTextValidator.IsValid(Encoding.UTF8.GetBytes(raw)));

    [Theory]
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 })]
    [InlineData(new byte[] { 0xC3, 0x28 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // a surrogate encoded as UTF-8 (CESU)
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98 })] // truncated four-byte sequence
    public void IsValid_InvalidUtf8_False(byte[] raw) => Assert.False(JsonTextValidator.IsValid(raw));

    [Fact]
    public void FindInvalid_NamesThePathOfTheFirstBadString()
    {
        byte[] json = Encoding.UTF8.GetBytes("""{"model":"m","messages":[{"role":"user","content":"ok"},{"role":"user","content":[{"type":"text","text":"bad \ud800"}]}]}""".Replace("\ud800", "\\ud800", StringComparison.Ordinal));
        using var document = JsonDocument.Parse(json);

        Assert.Equal("messages[1].content[0].text", JsonTextValidator.FindInvalid(document.RootElement));
    }

    [Fact]
    public void FindInvalid_ValidDocument_Null()
    {
        using var document = JsonDocument.Parse("""{"a":[1,"two",{"b":null,"c":"漢字"}],"d":true}""");

        Assert.Null(JsonTextValidator.FindInvalid(document.RootElement));
    }

    [Fact]
    public void TryParse_InvalidText_Is400WithParamAndLeavesNothingToDispose()
    {
        byte[] body = [.. "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a"u8, 0xFF, .. "\"}]}"u8];

        Assert.False(ModelRequestParser.TryParse(body, ApiEndpoint.ChatCompletions, out var request, out var error));
        Assert.Null(request);
        Assert.Equal(400, error!.Status);
        Assert.Equal("messages[0].content", error.Param);
    }

    [Theory]
    [InlineData("{\"model\":\"sim-embed\",\"i\\udc00\\ud800nput\":[[1,2]]}", "")]
    [InlineData("{\"model\":\"sim-embed\",\"input\":[1],\"dimensions\\uD83D\":8}", "")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\",\"n\\ud800\":1}]}", "messages[0]")]
    public void TryParse_InvalidPropertyNames_Is400(string json, string param)
    {
        Assert.False(ModelRequestParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), ApiEndpoint.Embeddings, out _, out var error));
        Assert.Equal(400, error!.Status);
        Assert.Equal(param.Length == 0 ? null : param, error.Param);
    }
}

