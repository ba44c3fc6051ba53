using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol;

public sealed class JsonStringsTests
{
    public static TheoryData<string> Strings() =>
    [
        "\"\"",
        "\"plain ASCII text\"",
        "\"日本語のテキスト、絵文字 😀 と中文\"",
        "\"line one\\nline two\\ttabbed \\\"quoted\\\" \\\\ back\\/slash\"",
        "\"escaped \\u00e9\\u4e2d and a pair \\ud83d\\ude00 after\"",
        "\"mixed é 中 😀 and \\u00e9 escapes\"",
    ];

    [Theory]
    [MemberData(nameof(Strings))]
    public void Decode_IsGetString(string json)
    {
        using var document = JsonDocument.Parse(json);
        var value = document.RootElement;
        string expected = value.GetString()!;
        var buffer = new char[JsonStrings.MaxLength(value)];

        int written = JsonStrings.Decode(value, buffer);

        Assert.Equal(expected, new string(buffer, 0, written));
        Assert.True(JsonStrings.MaxLength(value) >= expected.Length);
    }

    [Fact]
    public void Decode_RandomTexts_IsGetString()
    {
        var random = new Random(7);
        string[] pieces = ["a", "Z", "é", "中", "😀", "\n", "\"", "\\", "\u0001", "\u2028", " "];
        for (int i = 0; i < 2_000; i++)
        {
            var text = new System.Text.StringBuilder();
            for (int n = random.Next(0, 40); n > 0; n--)
            {
                text.Append(pieces[random.Next(pieces.Length)]);
            }

            // Serialized by System.Text.Json (escapes its own way), and with non-ASCII left raw.
            foreach (var options in (JsonSerializerOptions[])[new(), new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }])
            {
                using var document = JsonDocument.Parse(JsonSerializer.Serialize(text.ToString(), options));
                var buffer = new char[JsonStrings.MaxLength(document.RootElement)];
                int written = JsonStrings.Decode(document.RootElement, buffer);
                Assert.Equal(text.ToString(), new string(buffer, 0, written));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Strings))]
    public void DecodePrefix_EveryLength_IsAPrefixOfGetString(string json)
    {
        using var document = JsonDocument.Parse(json);
        string whole = document.RootElement.GetString()!;
        for (int room = 0; room <= whole.Length; room++)
        {
            var buffer = new char[room];
            string prefix = new(buffer, 0, JsonStrings.DecodePrefix(document.RootElement, buffer, out bool all));

            Assert.StartsWith(prefix, whole, StringComparison.Ordinal);
            Assert.Equal(prefix.Length == whole.Length, all);
            // All of the room is used, except for a surrogate pair that does not fit.
            Assert.InRange(prefix.Length, Math.Max(0, room - 1), room);
            Assert.False(prefix.Length > 0 && char.IsHighSurrogate(prefix[^1]) && prefix.Length < whole.Length);
        }
    }

    [Fact]
    public void Decode_NotAString_Throws()
    {
        using var document = JsonDocument.Parse("""{"n":1}""");

        Assert.Throws<ArgumentException>(() => JsonStrings.MaxLength(document.RootElement));
        Assert.Throws<ArgumentException>(() => JsonStrings.Decode(document.RootElement.GetProperty("n"), new char[8]));
    }

    [Fact]
    public void Decode_NotUtf8_FailsAsGetStringDoes()
    {
        // Bytes a request never brings (JsonTextValidator refuses them), but the simulator's bodies are not validated.
        byte[] json = [(byte)'"', (byte)'a', 0xFF, (byte)'b', (byte)'"'];
        using var document = JsonDocument.Parse(json);

        Assert.Throws<InvalidOperationException>(() => document.RootElement.GetString());
        Assert.Throws<InvalidOperationException>(() => JsonStrings.Decode(document.RootElement, new char[8]));
        Assert.Throws<InvalidOperationException>(() => JsonStrings.DecodePrefix(document.RootElement, new char[1], out _));
    }
}
