using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class InputTextBufferTests
{
    [Fact]
    public void AppendLine_JoinsDecodedStringsOnePerLine()
    {
        using var document = JsonDocument.Parse("""["first", "中文 \u00e9", "😀\nsecond"]""");
        using var text = new InputTextBuffer(1_000);

        foreach (var item in document.RootElement.EnumerateArray())
        {
            text.AppendLine(item);
        }

        Assert.Equal("first\n中文 é\n😀\nsecond\n", text.ToString());
        Assert.False(text.IsFull);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(100)]
    public void AppendLine_CutsTheWholeAtMaxChars(int maxChars)
    {
        const string Whole = "hello\nworld!\n";
        using var document = JsonDocument.Parse("""["hello", "world!", "more"]""");
        using var text = new InputTextBuffer(maxChars);

        foreach (var item in document.RootElement.EnumerateArray().Take(2))
        {
            text.AppendLine(item);
        }

        Assert.Equal(Whole[..Math.Min(maxChars, Whole.Length)], text.ToString());
        Assert.Equal(maxChars <= Whole.Length, text.IsFull);
    }

    [Fact]
    public void AppendLine_GrowsPastItsFirstBuffer()
    {
        string longText = string.Concat(Enumerable.Range(0, 3_000).Select(i => (char)('a' + (i % 26))));
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(new[] { longText, longText }));
        using var text = new InputTextBuffer(10_000);

        foreach (var item in document.RootElement.EnumerateArray())
        {
            text.AppendLine(item);
        }

        Assert.Equal(longText + "\n" + longText + "\n", text.ToString());
    }

    [Fact]
    public void Dispose_ThenAppend_Throws()
    {
        using var document = JsonDocument.Parse("\"x\"");
        var text = new InputTextBuffer(10);
        text.Dispose();

        Assert.Throws<ObjectDisposedException>(() => text.AppendLine(document.RootElement));
        Assert.Equal(0, text.Text.Length);
    }
}
