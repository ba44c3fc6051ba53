using System.Text.Json;

namespace Tollgate.Simulator.Tests;

/// <summary>Reads server-sent events one at a time, checking the framing as it goes.</summary>
internal sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream);

    /// <summary>The next event's data (<c>[DONE]</c> included), or null at the end of the body.</summary>
    public async Task<string?> ReadEventAsync()
    {
        string? line = await _reader.ReadLineAsync();
        if (line is null)
        {
            return null;
        }

        Assert.StartsWith("data: ", line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, await _reader.ReadLineAsync());
        return line["data: ".Length..];
    }

    /// <summary>Every remaining event.</summary>
    public async Task<List<string>> ReadAllAsync()
    {
        var events = new List<string>();
        while (await ReadEventAsync() is { } data)
        {
            events.Add(data);
        }

        return events;
    }

    /// <summary>Parses the JSON events before <c>[DONE]</c>.</summary>
    public static List<JsonElement> Parse(IEnumerable<string> events)
    {
        var chunks = new List<JsonElement>();
        foreach (string data in events)
        {
            if (data == "[DONE]")
            {
                break;
            }

            using var document = JsonDocument.Parse(data);
            chunks.Add(document.RootElement.Clone());
        }

        return chunks;
    }

    public void Dispose() => _reader.Dispose();
}
