using System.Text.Json;
using Tollgate.Configuration;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorLatencyTests
{
    private static readonly SimulatorLatencyOptions _latency = new()
    {
        TimeToFirstToken = TimeSpan.FromMilliseconds(400),
        TimePerToken = TimeSpan.FromMilliseconds(50),
    };

    [Fact]
    public async Task Stream_WithLatency_FirstTokenAfterTtftThenOneTokenPerInterval()
    {
        using var host = new SimulatorTestHost(_latency);
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Chat("[[sim:tokens=3]]"), includeUsage: false);
        using var response = await host.PostAsync("chat/completions", body, completion: HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        Assert.Contains("\"role\"", await reader.ReadEventAsync(), StringComparison.Ordinal);

        Assert.Equal(_latency.TimeToFirstToken, await host.Time.NextTimerAsync());
        var first = reader.ReadEventAsync();
        host.Time.Advance(_latency.TimeToFirstToken - TimeSpan.FromMilliseconds(1));
        Assert.False(first.IsCompleted);
        host.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Contains("\"content\"", await first, StringComparison.Ordinal);

        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(_latency.TimePerToken, await host.Time.NextTimerAsync());
            var next = reader.ReadEventAsync();
            Assert.False(next.IsCompleted);
            host.Time.Advance(_latency.TimePerToken);
            Assert.Contains("\"content\"", await next, StringComparison.Ordinal);
        }

        var rest = await reader.ReadAllAsync();
        Assert.Equal("[DONE]", rest[^1]);
    }

    [Fact]
    public async Task ChatCompletion_WithLatency_AnswersAfterTheWholeGenerationTime()
    {
        using var host = new SimulatorTestHost(_latency);

        var send = host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:tokens=5]]"));
        var due = await host.Time.NextTimerAsync();
        var expected = _latency.TimeToFirstToken + (4 * _latency.TimePerToken);
        Assert.Equal(expected, due);
        host.Time.Advance(expected - TimeSpan.FromMilliseconds(1));
        Assert.False(send.IsCompleted);
        host.Time.Advance(TimeSpan.FromMilliseconds(1));

        using var response = await send;
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(5, document.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.Equal(host.Time.Start.ToUnixTimeSeconds(), document.RootElement.GetProperty("created").GetInt64());
    }
}
