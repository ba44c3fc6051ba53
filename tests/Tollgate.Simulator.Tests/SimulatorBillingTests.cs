using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorBillingTests
{
    public static TheoryData<string, string, bool> Requests => new()
    {
        { "chat/completions", """{"model":"m","messages":[{"role":"user","content":"plain"}]}""", false },
        { "chat/completions", """{"model":"m","n":2,"max_tokens":9,"messages":[{"role":"user","content":"[[sim:cached=2]] [[sim:reasoning=3]] two"}]}""", false },
        { "chat/completions", """{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"streamed"}]}""", true },
        { "chat/completions", """{"model":"m","stream":true,"stream_options":{"include_usage":true},"n":3,"messages":[{"role":"user","content":"[[sim:reasoning=4]] three"}]}""", true },
        { "completions", """{"model":"m","prompt":["first","second"]}""", false },
        { "completions", """{"model":"m","prompt":"legacy stream","stream":true,"stream_options":{"include_usage":true}}""", true },
        { "embeddings", """{"model":"m","input":"embed me"}""", false },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Bill_AnyRequest_MatchesTheReportedUsage(string path, string body, bool stream)
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostRawAsync(path, body, "bill-me");
        string text = await response.Content.ReadAsStringAsync();

        var usage = stream ? LastStreamUsage(text) : JsonNode.Parse(text)!["usage"]!;
        var bill = host.Engine.Billing.Find("bill-me")!;
        Assert.Equal(Assert.Single(response.Headers.GetValues("x-request-id")), bill.UpstreamRequestId);
        Assert.Equal(path, bill.Endpoint);
        Assert.Equal(("m", stream, true, (string?)null), (bill.Model, bill.Stream, bill.Completed, bill.Fault));
        Assert.Equal(usage["prompt_tokens"]!.GetValue<long>(), bill.PromptTokens);
        Assert.Equal(usage["completion_tokens"]?.GetValue<long>() ?? 0, bill.CompletionTokens);
        Assert.Equal(usage["prompt_tokens_details"]?["cached_tokens"]!.GetValue<long>() ?? 0, bill.CachedTokens);
        Assert.Equal(usage["completion_tokens_details"]?["reasoning_tokens"]!.GetValue<long>() ?? 0, bill.ReasoningTokens);
        Assert.Single(host.Engine.Billing.All);
    }

    [Fact]
    public async Task Find_RepeatedClientRequestId_ReturnsTheLatestBill()
    {
        using var host = new SimulatorTestHost();

        await host.PostJsonAsync("chat/completions", SimulatorTestHost.Chat("[[sim:tokens=1]]"), "same");
        await host.PostJsonAsync("chat/completions", SimulatorTestHost.Chat("[[sim:tokens=2]]"), "same");

        Assert.Equal(2, host.Engine.Billing.Find("same")!.CompletionTokens);
        Assert.Null(host.Engine.Billing.Find("other"));
        Assert.Equal(2, host.Engine.Billing.All.Count);
    }

    private static JsonNode LastStreamUsage(string text)
    {
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        using var document = JsonDocument.Parse(events[^2]["data: ".Length..]);
        return JsonNode.Parse(document.RootElement.GetProperty("usage").GetRawText())!;
    }
}
