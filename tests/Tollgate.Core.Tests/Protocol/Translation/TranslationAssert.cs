using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Protocol.Translation;

internal static class TranslationAssert
{
    public static ModelRequest Messages(string body)
    {
        Assert.True(AnthropicRequestReader.Messages.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        return request!;
    }

    public static ModelRequest Chat(string body)
    {
        Assert.True(ModelRequestParser.TryParse(Encoding.UTF8.GetBytes(body), ApiEndpoint.ChatCompletions, out var request, out var refusal), refusal?.Message);
        return request!;
    }

    /// <summary>Both are the same JSON value (members in any order).</summary>
    public static void SameJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {JsonNode.Parse(expected)!.ToJsonString()}\n  actual {actual}");

    public static string Written(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The SSE events of <paramref name="stream"/>: (event name or null, data).</summary>
    public static List<(string? Event, string Data)> Events(string stream)
    {
        var events = new List<(string?, string)>();
        foreach (string block in stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null, data = "";
            foreach (string line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line[6..];
                }
            }

            events.Add((name, data));
        }

        return events;
    }
}
