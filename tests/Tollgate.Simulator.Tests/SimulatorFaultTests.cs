using System.Net;
using System.Text.Json;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorFaultTests
{
    [Fact]
    public async Task RateLimit_Directive_Returns429WithRetryAfterAndBillsNothing()
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:rate_limit]]"), "c1");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        Assert.StartsWith("req_sim_", Assert.Single(response.Headers.GetValues("x-request-id")), StringComparison.Ordinal);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = document.RootElement.GetProperty("error");
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Empty(host.Engine.Billing.All);
    }

    [Fact]
    public async Task Error_Directive_Returns500OpenAIErrorAndBillsNothing()
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:error]]"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("server_error", document.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Empty(host.Engine.Billing.All);
    }

    [Fact]
    public async Task Once_Directive_FaultsTheFirstRequestCarryingTheNameOnly()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat("[[sim:error]] [[sim:once=first]] Tell me about tides.");

        using var first = await host.PostAsync("chat/completions", body, "c1");
        using var second = await host.PostAsync("chat/completions", body, "c2");
        using var other = await host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:error]] [[sim:once=other]]"), "c3");

        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, other.StatusCode);
        var bill = Assert.Single(host.Engine.Billing.All);
        Assert.Equal(("c2", null, true), (bill.ClientRequestId, bill.Fault, bill.Completed));
    }

    [Fact]
    public async Task Garbage_Directive_Returns200JsonContentTypeWithNonJsonBody()
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:garbage]]"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(body));
        Assert.Empty(host.Engine.Billing.All);
    }

    [Fact]
    public async Task Hang_Directive_AnswersNothingUntilCancelledThenBillsThePromptOnly()
    {
        using var host = new SimulatorTestHost();
        using var cancellation = new CancellationTokenSource();
        var body = SimulatorTestHost.Chat("[[sim:hang]]");

        var send = host.PostAsync("chat/completions", body, "hung", cancellationToken: cancellation.Token);
        await Task.Yield();
        Assert.False(send.IsCompleted);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        var bill = await host.Engine.Billing.WaitForAsync("hung", SimulatorTestHost.Timeout);
        Assert.Equal(SimulatorTestHost.CountChat(body), bill.PromptTokens);
        Assert.Equal((0L, "hang", false), (bill.CompletionTokens, bill.Fault, bill.Completed));
    }

    [Fact]
    public async Task NoUsage_NonStream_OmitsUsageButStillBills()
    {
        using var host = new SimulatorTestHost();

        var reply = await host.PostJsonAsync("chat/completions", SimulatorTestHost.Chat("[[sim:no_usage]] [[sim:tokens=9]]"), "nu");

        Assert.False(reply.TryGetProperty("usage", out _));
        var bill = host.Engine.Billing.Find("nu")!;
        Assert.Equal((9L, "no_usage", true), (bill.CompletionTokens, bill.Fault, bill.Completed));
    }

    [Fact]
    public async Task IgnoreMaxTokens_Directive_GeneratesTheUncappedLength()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat("[[sim:ignore_max_tokens]] [[sim:tokens=30]]");
        body["max_tokens"] = 4;

        var reply = await host.PostJsonAsync("chat/completions", body, "big");

        Assert.Equal(30, reply.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.Equal("stop", reply.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("ignore_max_tokens", host.Engine.Billing.Find("big")!.Fault);
    }

    [Fact]
    public async Task Cut_NonStream_ReaderFailsAfterHalfTheBody()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat("[[sim:cut=3]] [[sim:tokens=12]]");

        using var response = await host.PostAsync("chat/completions", body, "cut", HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var received = new MemoryStream();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Assert.ThrowsAsync<IOException>(() => stream.CopyToAsync(received));
        Assert.True(received.Length > 0);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(received.ToArray()));
        var bill = host.Engine.Billing.Find("cut")!;
        Assert.Equal((12L, "cut", false), (bill.CompletionTokens, bill.Fault, bill.Completed));
    }

    [Fact]
    public async Task Cut_NonStreamBuffered_SendFails()
    {
        using var host = new SimulatorTestHost();

        await Assert.ThrowsAsync<HttpRequestException>(
            () => host.PostAsync("chat/completions", SimulatorTestHost.Chat("[[sim:cut=1]]")));
    }
}
