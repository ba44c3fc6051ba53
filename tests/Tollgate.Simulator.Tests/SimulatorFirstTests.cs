using System.Net;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Configuration;

namespace Tollgate.Simulator.Tests;

/// <summary><c>[[sim:first=N]]</c>: faults apply to the first N calls of a client request id, across engines that share a counter.</summary>
public sealed class SimulatorFirstTests
{
    [Fact]
    public async Task First_FaultsOnlyTheFirstCallsOfTheSameClientRequestId()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat("[[sim:error]] [[sim:first=2]] [[sim:tokens=3]]");

        using var first = await host.PostAsync("chat/completions", body, "req-1");
        using var second = await host.PostAsync("chat/completions", body, "req-1");
        using var third = await host.PostAsync("chat/completions", body, "req-1");
        using var other = await host.PostAsync("chat/completions", body, "req-2");

        Assert.Equal(
            [HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError, HttpStatusCode.OK, HttpStatusCode.InternalServerError],
            new[] { first.StatusCode, second.StatusCode, third.StatusCode, other.StatusCode });
        var bill = Assert.Single(host.Engine.Billing.All);
        Assert.Equal(("req-1", 3L, (string?)null), (bill.ClientRequestId, bill.CompletionTokens, bill.Fault));
    }

    [Fact]
    public async Task First_CountsAcrossEnginesSharingACounter()
    {
        var calls = new SimulatorCallCounter();
        var time = new FakeTimeProvider();
        using var primary = new HttpClient(new SimulatorEngine(time, new SimulatorLatencyOptions(), calls: calls).CreateHandler()) { BaseAddress = new Uri("http://a/v1/") };
        using var backup = new HttpClient(new SimulatorEngine(time, new SimulatorLatencyOptions(), calls: calls).CreateHandler()) { BaseAddress = new Uri("http://b/v1/") };
        string body = SimulatorTestHost.Chat("[[sim:rate_limit]] [[sim:first=1]]").ToJsonString();

        using var fromPrimary = await primary.SendAsync(Request(body));
        using var fromBackup = await backup.SendAsync(Request(body));

        Assert.Equal((HttpStatusCode.TooManyRequests, HttpStatusCode.OK), (fromPrimary.StatusCode, fromBackup.StatusCode));
    }

    [Fact]
    public void First_WithoutAnId_EveryCallIsTheFirst() => Assert.Equal((1, 1), (new SimulatorCallCounter().Next(null), new SimulatorCallCounter().Next(null)));

    private static HttpRequestMessage Request(string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("x-client-request-id", "shared-1");
        return request;
    }
}
