using System.Net;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorBarrierTests
{
    [Fact]
    public async Task Hold_ManyConcurrentRequests_HeldUntilReleasedThenAllAnswer()
    {
        using var host = new SimulatorTestHost();
        var barrier = host.Engine.Barrier;
        const int Count = 25;

        var sends = Enumerable.Range(0, Count)
            .Select(i => host.PostAsync("chat/completions", SimulatorTestHost.Chat($"[[sim:hold=g]] call {i}"), $"h{i}"))
            .ToList();
        await barrier.WaitForWaitingAsync("g", Count, SimulatorTestHost.Timeout);

        Assert.Equal(Count, barrier.Waiting("g"));
        Assert.All(sends, send => Assert.False(send.IsCompleted));
        Assert.Empty(host.Engine.Billing.All);

        barrier.Release("g");
        var responses = await Task.WhenAll(sends);

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        Assert.Equal(0, barrier.Waiting("g"));
        Assert.Equal(Count, host.Engine.Billing.All.Count);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Theory]
    [InlineData("chat/completions", "data: [DONE]")]
    [InlineData("responses", "event: response.completed")]
    [InlineData("messages", "event: message_stop")]
    public async Task Pause_StreamWaitsMidwayUntilReleased_ThenEndsAndBillsInFull(string path, string end)
    {
        const string content = "[[sim:tokens=8]] [[sim:pause=3:mid]]";
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat(content, path == "messages" ? "claude-sonnet-4-5" : "gpt-4o-mini");
        body["stream"] = true;
        if (path == "responses")
        {
            body.Remove("messages");
            body["input"] = content;
        }
        else if (path == "messages")
        {
            body.Remove("messages");
            body["max_tokens"] = 100;
            body["messages"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["role"] = "user", ["content"] = content });
        }

        using var response = await host.PostAsync(path, body, "paused", HttpCompletionOption.ResponseHeadersRead, SimulatorTestHost.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await host.Engine.Barrier.WaitForWaitingAsync("mid", 1, SimulatorTestHost.Timeout);
        Assert.Null(host.Engine.Billing.Find("paused"));

        host.Engine.Barrier.Release("mid");
        var lines = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            lines.Add(line);
        }

        Assert.Contains(end, lines);
        Assert.Equal(8, host.Engine.Billing.Find("paused")!.CompletionTokens);
    }

    [Theory]
    [InlineData("pause=3")]
    [InlineData("pause=:g")]
    [InlineData("pause=x:g")]
    [InlineData("pause=3:")]
    public async Task Pause_Malformed_Is400(string directive)
    {
        using var host = new SimulatorTestHost();
        using var response = await host.PostAsync("chat/completions", SimulatorTestHost.Chat($"[[sim:{directive}]]"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Hold_AfterRelease_PassesUntilReset()
    {
        using var host = new SimulatorTestHost();
        var barrier = host.Engine.Barrier;
        barrier.Release("open");

        using (var passed = await host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:hold=open]]")))
        {
            Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        }

        barrier.Reset("open");
        var held = host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:hold=open]] again"));
        await barrier.WaitForWaitingAsync("open", 1, SimulatorTestHost.Timeout);

        Assert.False(held.IsCompleted);
        barrier.Release("open");
        using var response = await held;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Hold_Cancelled_LeavesTheGateAndBillsThePlanAsNotCompleted()
    {
        using var host = new SimulatorTestHost();
        using var cancellation = new CancellationTokenSource();
        var held = host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:hold=c]] [[sim:tokens=6]]"), "gone", cancellationToken: cancellation.Token);
        await host.Engine.Barrier.WaitForWaitingAsync("c", 1, SimulatorTestHost.Timeout);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
        var bill = await host.Engine.Billing.WaitForAsync("gone", SimulatorTestHost.Timeout);
        Assert.Equal((6L, false), (bill.CompletionTokens, bill.Completed));
        Assert.Equal(0, host.Engine.Barrier.Waiting("c"));
    }

    [Fact]
    public async Task Hold_TwoGates_ReleasingOneLeavesTheOtherHeld()
    {
        using var host = new SimulatorTestHost();
        var a = host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:hold=a]]"));
        var b = host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:hold=b]]"));
        await host.Engine.Barrier.WaitForWaitingAsync("a", 1, SimulatorTestHost.Timeout);
        await host.Engine.Barrier.WaitForWaitingAsync("b", 1, SimulatorTestHost.Timeout);

        host.Engine.Barrier.Release("a");
        (await a).Dispose();

        Assert.False(b.IsCompleted);
        Assert.Equal(1, host.Engine.Barrier.Waiting("b"));
        host.Engine.Barrier.Release("b");
        (await b).Dispose();
    }
}
