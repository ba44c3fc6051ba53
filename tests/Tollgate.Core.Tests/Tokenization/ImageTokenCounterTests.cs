using System.Text.Json;
using Tollgate.Tokenization;

namespace Tollgate.Core.Tests.Tokenization;

public sealed class ImageTokenCounterTests
{
    [Theory]
    [InlineData(1024, 1024, 765)]   // 768×768 → 4 tiles
    [InlineData(2048, 4096, 1105)]  // → 1024×2048 → 768×1536 → 2×3 tiles
    [InlineData(512, 512, 255)]     // 1 tile
    [InlineData(100, 100, 255)]
    [InlineData(768, 2048, 1445)]   // the largest: 2×4 tiles
    public void ForDimensions_OpenAIFormula(int width, int height, int expected) =>
        Assert.Equal(expected, ImageTokenCounter.ForDimensions(width, height));

    [Fact]
    public void Count_PngDataUrl_ReadsDimensionsFromHeaderNotBase64Length()
    {
        byte[] png = new byte[24 + 100_000];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(png, 0);
        png[18] = 0x02; // width 512 (big-endian at 16..19)
        png[22] = 0x02; // height 512
        string url = "data:image/png;base64," + Convert.ToBase64String(png);

        Assert.Equal(255, Count($$"""{"url":"{{url}}"}"""));
    }

    [Fact]
    public void Count_GifDataUrl_ReadsDimensions()
    {
        byte[] gif = [.. "GIF89a"u8, 0x00, 0x04, 0x00, 0x03, 0, 0]; // 1024 × 768
        Assert.Equal(765, Count($$"""{"url":"data:image/gif;base64,{{Convert.ToBase64String(gif)}}"}"""));
    }

    [Theory]
    [InlineData("""{"url":"https://example.invalid/cat.png"}""", ImageTokenCounter.MaxTokens)]
    [InlineData("""{"url":"https://example.invalid/cat.png","detail":"low"}""", 85)]
    [InlineData("""{"url":"data:image/png;base64,!!!!"}""", ImageTokenCounter.MaxTokens)]
    public void Count_UnknownDimensions_AssumesTheMostOrLowDetail(string part, int expected) =>
        Assert.Equal(expected, Count(part));

    private static int Count(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ImageTokenCounter.Count(document.RootElement);
    }
}
