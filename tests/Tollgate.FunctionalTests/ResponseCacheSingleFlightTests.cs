using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audit;
using Tollgate.Caching;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Limits;
using static Tollgate.FunctionalTests.ResponseCacheTests;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Single flight: identical requests that miss at once make one upstream call. The leader is held at the simulator's
/// barrier until every follower is waiting for it, so the ordering is forced, never timed; upstream calls are counted
/// by the simulator's bills.
/// </summary>
public sealed class ResponseCacheSingleFlightTests : IAsyncLifetime
{
    private const int Requests = 300;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        EnableCache(c);
        var plan = c["Plans"]!["basic"]!;
        plan["RequestsPerMinute"] = 10_000;
        plan["RequestsPerDay"] = 100_000;
        plan["TokensPerMinute"] = 100_000_000;
        plan["MaxConcurrentRequests"] = 1_000;
        c["TenantDefaults"] = new JsonObject { ["RequestsPerMinute"] = 100_000, ["MaxConcurrentRequests"] = 1_000 };
        c["Global"]!["MaxConcurrentRequests"] = 2_000;
    });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private ResponseFlights Flights => _gateway.App.Services.GetRequiredService<ResponseFlights>();

    [Fact]
    public async Task HundredsOfConcurrentIdenticalRequests_MakeExactlyOneUpstreamCall()
    {
        using var failsafe = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string key = await _gateway.CreateKeyAsync();
        const string Plain = """{"model":"sim-mini","max_tokens":20,"messages":[{"role":"user","content":"One call for all [[sim:hold=flight]]"}]}""";
        const string Stream = """{"model":"sim-mini","max_tokens":20,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"One call for all [[sim:hold=flight]]"}]}""";

        // Plain and streaming callers share one flight: how an answer is delivered is not part of the key.
        var requests = Enumerable.Range(0, Requests).Select(i => SendAsync(_gateway, key, i % 3 == 0 ? Stream : Plain)).ToArray();
        await _gateway.Simulator.Barrier.WaitForWaitingAsync("flight", 1, failsafe.Token);
        await Flights.WaitForFollowersAsync(Requests - 1, failsafe.Token);
        Assert.Equal(1, _gateway.Simulator.Barrier.Waiting("flight"));
        _gateway.Simulator.Barrier.Release("flight");
        var answers = await Task.WhenAll(requests);

        var bill = Assert.Single(_gateway.Simulator.Billing.All);
        Assert.True(bill.Completed);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(1, answers.Count(a => a.Cache == "miss"));
        Assert.Equal(Requests - 1, answers.Count(a => a.Cache == "hit"));
        string text = answers.Where(a => a.MediaType == "application/json").Select(a => Content(a.Body)).Distinct().Single();
        Assert.All(answers.Where(a => a.MediaType == "text/event-stream"), a => Assert.Equal(text, StreamText(a.Body)));

        var records = new List<AuditRecord>();
        foreach (var answer in answers)
        {
            records.Add(await _gateway.AuditAsync(answer.RequestId));
        }

        Assert.All(records, r => Assert.Equal(Decisions.Allowed, r.Decision));
        Assert.Equal(1, records.Count(r => r.Reason == AuditReasons.Ok && r.UpstreamStatus == 200));
        var hits = records.Where(r => r.Reason == AuditReasons.CacheHit).ToList();
        Assert.Equal(Requests - 1, hits.Count);
        Assert.All(hits, r => Assert.Equal((0L, 0L, bill.CompletionTokens), (r.CostNanos, r.Usage.TotalTokens, r.ReportedOutputTokens ?? -1)));
        Assert.Equal(0, ((InMemoryQuotaStore)_gateway.Quotas).Outstanding);
        Assert.Equal((0, 0), (Flights.Count, Flights.Following));
    }

    [Theory]
    [InlineData("[[sim:error]]", false, HttpStatusCode.BadGateway)]
    [InlineData("[[sim:cut=2]]", true, HttpStatusCode.OK)]
    [InlineData("[[sim:no_usage]]", false, HttpStatusCode.OK)]
    public async Task FailingLeader_FollowersGoUpstreamThemselves(string fault, bool leaderStreams, HttpStatusCode leaderStatus)
    {
        const int Followers = 20;
        using var failsafe = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string key = await _gateway.CreateKeyAsync();
        // The fault applies to the first request only ([[sim:once]]): the leader fails, the followers' own calls do not.
        string prompt = $"Fail the first {fault} [[sim:once=lead]] [[sim:hold=lead]]";
        string plain = $$"""{"model":"sim-mini","max_tokens":20,"messages":[{"role":"user","content":"{{prompt}}"}]}""";
        string stream = $$"""{"model":"sim-mini","max_tokens":20,"stream":true,"messages":[{"role":"user","content":"{{prompt}}"}]}""";

        var leader = SendAsync(_gateway, key, leaderStreams ? stream : plain);
        await _gateway.Simulator.Barrier.WaitForWaitingAsync("lead", 1, failsafe.Token);
        var followers = Enumerable.Range(0, Followers).Select(_ => SendAsync(_gateway, key, plain)).ToArray();
        await Flights.WaitForFollowersAsync(Followers, failsafe.Token);
        _gateway.Simulator.Barrier.Release("lead");
        var led = await leader;
        var answers = await Task.WhenAll(followers);

        Assert.Equal((leaderStatus, "miss"), (led.Status, led.Cache));
        Assert.NotEqual(AuditReasons.CacheHit, (await _gateway.AuditAsync(led.RequestId)).Reason);
        Assert.All(answers, a => Assert.Equal((HttpStatusCode.OK, "miss"), (a.Status, a.Cache)));
        // Each follower made its own call: the leader's (billed or not) plus one per follower, every one complete.
        var followerIds = answers.Select(a => a.RequestId).ToHashSet();
        var bills = _gateway.Simulator.Billing.All;
        Assert.Equal(Followers, bills.Count(b => followerIds.Contains(b.ClientRequestId!) && b.Completed && b.Fault is null));
        Assert.All(bills, b => Assert.True(b.ClientRequestId == led.RequestId || followerIds.Contains(b.ClientRequestId!)));
        foreach (var answer in answers)
        {
            var record = await _gateway.AuditAsync(answer.RequestId);
            Assert.Equal((AuditReasons.Ok, 200), (record.Reason, record.UpstreamStatus));
        }

        // What the followers fetched was stored: the next identical request is a hit.
        int before = bills.Count;
        Assert.Equal("hit", (await SendAsync(_gateway, key, plain)).Cache);
        Assert.Equal(before, _gateway.Simulator.Billing.All.Count);
        Assert.Equal(0, ((InMemoryQuotaStore)_gateway.Quotas).Outstanding);
    }

    [Fact]
    public async Task FollowerWhoseCallerLeaves_EndsAloneAndTheOthersStillGetTheAnswer()
    {
        using var failsafe = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string key = await _gateway.CreateKeyAsync();
        const string Body = """{"model":"sim-mini","max_tokens":20,"messages":[{"role":"user","content":"Wait for me [[sim:hold=leave]]"}]}""";
        var leader = SendAsync(_gateway, key, Body);
        await _gateway.Simulator.Barrier.WaitForWaitingAsync("leave", 1, failsafe.Token);
        using var leaving = new CancellationTokenSource();
        string leavingId = "leaving-" + Guid.NewGuid().ToString("n");
        using var request = ChatCompletionTests.Json(key, Body);
        request.Headers.Add("x-request-id", leavingId);
        var abandoned = _gateway.Http.SendAsync(request, leaving.Token);
        var stays = SendAsync(_gateway, key, Body);
        await Flights.WaitForFollowersAsync(2, failsafe.Token);

        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        var record = await _gateway.AuditAsync(leavingId);
        _gateway.Simulator.Barrier.Release("leave");

        Assert.Equal((Decisions.Allowed, AuditReasons.ClientAborted, 0L), (record.Decision, record.Reason, record.CostNanos));
        Assert.Equal(("miss", "hit"), ((await leader).Cache, (await stays).Cache));
        Assert.Single(_gateway.Simulator.Billing.All);
    }
}
