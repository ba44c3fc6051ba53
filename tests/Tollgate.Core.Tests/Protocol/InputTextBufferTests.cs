using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class InputTextBufferTests
{
    private static readonly JsonSerializerOptions s_escaping = new();
    private static readonly JsonSerializerOptions s_relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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
    public void AppendLine_ExactlyTheFirstBuffer_ThenMore()
    {
        string first = new('a', 1024);
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(new[] { first, "bc" }));
        using var text = new InputTextBuffer(5_000);

        foreach (var item in document.RootElement.EnumerateArray())
        {
            text.AppendLine(item);
        }

        Assert.Equal(first + "\nbc\n", text.ToString());
    }

    [Theory]
    [InlineData("中文テキスト😀😀 end", false)]
    [InlineData("中文テキスト😀😀 end", true)]
    [InlineData("line\nbreaks\tand \"quotes\" 😀 end", true)]
    public void AppendLine_CutInsideAString_IsThePrefixOfItsText_NeverHalfAPair(string value, bool escapeAll)
    {
        var options = escapeAll ? s_escaping : s_relaxed;
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(new[] { "ab", value }, options));
        string whole = "ab\n" + value + "\n";
        for (int max = 0; max <= whole.Length + 1; max++)
        {
            using var text = new InputTextBuffer(max);
            foreach (var item in document.RootElement.EnumerateArray())
            {
                text.AppendLine(item);
            }

            string expected = whole[..Math.Min(max, whole.Length)];
            if (expected.Length > 0 && expected.Length < whole.Length && char.IsHighSurrogate(expected[^1]))
            {
                // A pair that does not fit is left out whole.
                expected = expected[..^1];
            }

            Assert.Equal(expected, text.ToString());
        }
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
