using System.Net;
using System.Text;
using System.Text.Json;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorStreamingTests
{
    [Fact]
    public async Task Stream_WithoutIncludeUsage_RoleWordsFinishDoneAndNoUsageAnywhere()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Chat("[[sim:tokens=4]] stream"), includeUsage: false);

        var (response, events) = await StreamAsync(host, "chat/completions", body);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = SseReader.Parse(events);
        Assert.Equal(6, chunks.Count);
        Assert.All(chunks, chunk => Assert.False(chunk.TryGetProperty("usage", out _)));
        Assert.All(chunks, chunk => Assert.Equal("chat.completion.chunk", chunk.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(chunk => chunk.GetProperty("id").GetString()).Distinct());
        var first = chunks[0].GetProperty("choices")[0];
        Assert.Equal("assistant", first.GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(string.Empty, first.GetProperty("delta").GetProperty("content").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("finish_reason").ValueKind);
        Assert.All(chunks[1..5], chunk => Assert.Equal(1, SimulatorTestHost.CountText(Delta(chunk))));
        var last = chunks[5].GetProperty("choices")[0];
        Assert.Equal("{}", last.GetProperty("delta").GetRawText());
        Assert.Equal("stop", last.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Stream_WithIncludeUsage_UsageChunkLastAndNullUsageOnEveryOtherChunk()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Chat("[[sim:tokens=5]] usage please"), includeUsage: true);

        var (_, events) = await StreamAsync(host, "chat/completions", body, "s1");

        var chunks = SseReader.Parse(events);
        Assert.All(chunks[..^1], chunk => Assert.Equal(JsonValueKind.Null, chunk.GetProperty("usage").ValueKind));
        var usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        var usage = usageChunk.GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(SimulatorTestHost.CountChat(body), usage.GetProperty("prompt_tokens").GetInt64());
        var bill = host.Engine.Billing.Find("s1")!;
        Assert.Equal((true, 5L, true), (bill.Stream, bill.CompletionTokens, bill.Completed));
    }

    [Fact]
    public async Task Stream_SamePromptAsNonStream_SameText()
    {
        using var host = new SimulatorTestHost();
        var whole = await host.PostJsonAsync("chat/completions", SimulatorTestHost.Chat("identical"));

        var (_, events) = await StreamAsync(host, "chat/completions", SimulatorTestHost.Streaming(SimulatorTestHost.Chat("identical"), false));

        var streamed = new StringBuilder();
        foreach (var chunk in SseReader.Parse(events))
        {
            if (chunk.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var content))
            {
                streamed.Append(content.GetString());
            }
        }

        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), streamed.ToString());
    }

    [Fact]
    public async Task Stream_NoUsageDirective_NoUsageChunkEvenWhenAskedButBills()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Chat("[[sim:no_usage]] [[sim:tokens=3]]"), includeUsage: true);

        var (_, events) = await StreamAsync(host, "chat/completions", body, "nu");

        var chunks = SseReader.Parse(events);
        Assert.Equal("[DONE]", events[^1]);
        Assert.All(chunks, chunk => Assert.Equal(JsonValueKind.Null, chunk.GetProperty("usage").ValueKind));
        Assert.Equal(3, host.Engine.Billing.Find("nu")!.CompletionTokens);
    }

    [Fact]
    public async Task Stream_TwoChoices_ChunksForEachIndexAndSummedUsage()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Chat("[[sim:tokens=3]]"), includeUsage: true);
        body["n"] = 2;

        var (_, events) = await StreamAsync(host, "chat/completions", body);

        var chunks = SseReader.Parse(events);
        var indexes = chunks[..^1].Select(chunk => chunk.GetProperty("choices")[0].GetProperty("index").GetInt32()).ToList();
        Assert.Equal(5, indexes.Count(index => index == 0));
        Assert.Equal(5, indexes.Count(index => index == 1));
        Assert.Equal(6, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt64());
    }

    [Fact]
    public async Task Stream_LegacyCompletion_TextChunksThenFinishThenUsage()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Completion("[[sim:tokens=2]] legacy"), includeUsage: true);

        var (_, events) = await StreamAsync(host, "completions", body);

        var chunks = SseReader.Parse(events);
        Assert.Equal(4, chunks.Count);
        Assert.All(chunks, chunk => Assert.Equal("text_completion", chunk.GetProperty("object").GetString()));
        Assert.Equal(1, SimulatorTestHost.CountText(chunks[0].GetProperty("choices")[0].GetProperty("text").GetString()!));
        Assert.Equal("stop", chunks[2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(2, chunks[3].GetProperty("usage").GetProperty("completion_tokens").GetInt64());
    }

    [Fact]
    public async Task Stream_CutDirective_KContentChunksThenTheReaderThrows()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Chat("[[sim:cut=3]] [[sim:tokens=10]] [[sim:reasoning=2]]"), includeUsage: true);
        using var response = await host.PostAsync("chat/completions", body, "cut", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();

        var failure = await Assert.ThrowsAsync<IOException>(async () =>
        {
            while (await reader.ReadEventAsync() is { } data)
            {
                events.Add(data);
            }
        });

        Assert.Equal(4, events.Count);
        Assert.DoesNotContain("[DONE]", events);
        Assert.Contains("cut", failure.Message, StringComparison.Ordinal);
        var bill = host.Engine.Billing.Find("cut")!;
        Assert.Equal((5L, 2L, false, "cut"), (bill.CompletionTokens, bill.ReasoningTokens, bill.Completed, bill.Fault));
    }

    [Fact]
    public async Task Stream_ClientLeavesMidStream_BillsTheWholePlanAsNotCompleted()
    {
        using var host = new SimulatorTestHost(new() { TimePerToken = TimeSpan.FromSeconds(1) });
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Chat("[[sim:tokens=10]]"), includeUsage: true);
        var response = await host.PostAsync("chat/completions", body, "left", HttpCompletionOption.ResponseHeadersRead);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        await reader.ReadEventAsync();
        await reader.ReadEventAsync();
        await host.Time.NextTimerAsync();

        response.Dispose();

        var bill = await host.Engine.Billing.WaitForAsync("left", SimulatorTestHost.Timeout);
        Assert.Equal((10L, false, null), (bill.CompletionTokens, bill.Completed, bill.Fault));
        reader.Dispose();
    }

    internal static string Delta(JsonElement chunk) =>
        chunk.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()!;

    private static async Task<(HttpResponseMessage Response, List<string> Events)> StreamAsync(
        SimulatorTestHost host, string path, System.Text.Json.Nodes.JsonObject body, string? clientRequestId = null)
    {
        var response = await host.PostAsync(path, body, clientRequestId, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        return (response, await reader.ReadAllAsync());
    }
}
