#pragma warning disable OPENAI001 // the Responses client is marked experimental
using System.ClientModel;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Responses;
using Tollgate.Audit;
using Tollgate.Background;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Background responses (<c>background: true</c>) through the gateway, with the official OpenAI .NET client: the create
/// call holds its reservation and the key's concurrency slot until the response ends; whoever first sees the end — a
/// poll, concurrent polls, a cancel, or the gateway's own poll on its clock — bills it once, with the upstream's usage,
/// under the create call's one audit record. Time is a <see cref="FakeTimeProvider"/>: the gateway's polls run only
/// when a test moves it.
/// </summary>
public sealed class BackgroundResponsesTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        c["Gateway"]!["BackgroundPollInterval"] = "00:00:10";
        c["Gateway"]!["BackgroundMaxLifetime"] = "00:05:00";
        c["Plans"]!["single"] = new JsonObject { ["Models"] = new JsonArray("*"), ["MaxConcurrentRequests"] = 1 };
    }, _time);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private BackgroundResponses Tracker => _gateway.App.Services.GetRequiredService<BackgroundResponses>();

    [Fact]
    public async Task PolledByTheCaller_ReservationHeldUntilItEndsThenBilledOnceWithTheUpstreamsUsage()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string createId = ids.Use();

        ResponseResult created = await client.CreateResponseAsync(Background("Write it up [[sim:hold=polled]] [[sim:tokens=9]]"));

        Assert.Equal(ResponseStatus.Queued, created.Status);
        Assert.Equal(1, _gateway.Quotas.Outstanding);
        Assert.Empty(await _gateway.AuditRecordsAsync(new UsageQuery(RequestId: createId)));
        var lease = Assert.Single(await LeasesAsync());
        Assert.Equal((createId, created.Id), (lease.RequestId, lease.BackgroundResponseId));

        string runningPollId = ids.Use();
        Assert.Equal(ResponseStatus.Queued, (await client.GetResponseAsync(created.Id)).Value.Status);
        Assert.Equal(1, _gateway.Quotas.Outstanding);

        _gateway.Simulator.Barrier.Release("polled");
        var bill = await _gateway.Simulator.Billing.WaitForAsync(createId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        string endedPollId = ids.Use();
        ResponseResult ended = await client.GetResponseAsync(created.Id);
        string laterPollId = ids.Use();
        await client.GetResponseAsync(created.Id);

        Assert.Equal(ResponseStatus.Completed, ended.Status);
        Assert.Equal(9, ended.Usage.OutputTokenCount);
        Assert.Equal(0, _gateway.Quotas.Outstanding);
        var record = await _gateway.AuditAsync(createId);
        Assert.Empty(await LeasesAsync());
        Assert.Equal(("responses", Decisions.Allowed, AuditReasons.Ok, 200), (record.Endpoint, record.Decision, record.Reason, record.Status));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 9, 0), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 9, 150_000, 75_000, 600_000), record.CostNanos);
        Assert.Equal(lease.Id, record.ReservationId);
        foreach (string pollId in new[] { runningPollId, endedPollId, laterPollId })
        {
            var poll = await _gateway.AuditAsync(pollId);
            Assert.Equal(("responses.retrieve", 200, 0L), (poll.Endpoint, poll.Status, poll.CostNanos));
            Assert.Equal(default, poll.Usage);
        }

        Assert.Single(await _gateway.AuditRecordsAsync(new UsageQuery(RequestId: createId)));
        Assert.Single(_gateway.Simulator.Billing.All, b => b.ClientRequestId == createId);
    }

    [Fact]
    public async Task ConcurrentPolls_OfAnEndedResponse_BillItExactlyOnce()
    {
        const int Polls = 24;
        var ids = new RequestIdPolicy();
        string key = await _gateway.CreateKeyAsync();
        var client = _gateway.OpenAI(key, ids).GetResponsesClient();
        string createId = ids.Use();
        ResponseResult created = await client.CreateResponseAsync(Background("Race [[sim:hold=raced]] [[sim:tokens=12]]"));
        _gateway.Simulator.Barrier.Release("raced");
        var bill = await _gateway.Simulator.Billing.WaitForAsync(createId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        using var start = new Barrier(Polls);
        var polls = Enumerable.Range(0, Polls).Select(_ => Task.Run(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/responses/{created.Id}");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            start.SignalAndWait();
            using var response = await _gateway.Http.SendAsync(request);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return (response.StatusCode, body.RootElement.GetProperty("status").GetString());
        })).ToArray();
        var results = await Task.WhenAll(polls);

        Assert.All(results, r => Assert.Equal((HttpStatusCode.OK, "completed"), r));
        Assert.Equal(0, _gateway.Quotas.Outstanding);
        var records = await _gateway.AuditRecordsAsync();
        var billed = Assert.Single(records, r => r.CostNanos > 0);
        Assert.Equal(createId, billed.RequestId);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 12, 0), billed.Usage);
        Assert.Equal(Polls, records.Count(r => r.Endpoint == "responses.retrieve" && r.CostNanos == 0 && r.Usage == default));
        Assert.Empty(await LeasesAsync());
    }

    [Fact]
    public async Task ConcurrencySlot_HeldWhileItRuns_FreeOnceItEnded()
    {
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(plan: "single")).GetResponsesClient();
        ResponseResult created = await client.CreateResponseAsync(Background("Long job [[sim:hold=slot]] [[sim:tokens=4]]"));

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.CreateResponseAsync(Plain("Meanwhile [[sim:tokens=2]]")));
        Assert.Equal(429, refused.Status);
        Assert.Contains("concurrent", refused.Message, StringComparison.OrdinalIgnoreCase);

        _gateway.Simulator.Barrier.Release("slot");
        await _gateway.Simulator.Billing.WaitForAsync(Bills(created.Id), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ResponseStatus.Completed, (await client.GetResponseAsync(created.Id)).Value.Status);

        ResponseResult after = await client.CreateResponseAsync(Plain("Now [[sim:tokens=2]]"));
        Assert.Equal(ResponseStatus.Completed, after.Status);
    }

    [Fact]
    public async Task NobodyPolls_TheGatewayPollsOnItsClockAndSettlesIt()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string createId = ids.Use();
        ResponseResult created = await client.CreateResponseAsync(Background("Unwatched [[sim:hold=unwatched]] [[sim:tokens=7]]"));
        var tracked = Tracker.Find(created.Id)!;

        // A poll while it runs changes nothing.
        await AdvanceAndPollAsync(tracked);
        Assert.False(tracked.Claimed);
        Assert.Equal(1, _gateway.Quotas.Outstanding);

        _gateway.Simulator.Barrier.Release("unwatched");
        var bill = await _gateway.Simulator.Billing.WaitForAsync(createId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(tracked.Claimed);
        _time.Advance(TimeSpan.FromSeconds(10));
        var record = await tracked.Recorded.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((createId, AuditReasons.Ok), (record.RequestId, record.Reason));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 7, 0), record.Usage);
        Assert.Equal(0, _gateway.Quotas.Outstanding);
        Assert.Null(Tracker.Find(created.Id));
        var stored = await _gateway.AuditAsync(createId);
        Assert.Equal((record.Usage, record.CostNanos, record.ReservationId), (stored.Usage, stored.CostNanos, stored.ReservationId));
        Assert.Empty(await LeasesAsync());
    }

    [Fact]
    public async Task Cancel_WhileItRuns_BilledWhatTheUpstreamReportsForTheCancelledResponse()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string createId = ids.Use();
        ResponseResult created = await client.CreateResponseAsync(Background("Never mind [[sim:hold=cancelled]] [[sim:tokens=30]]"));

        string cancelId = ids.Use();
        ResponseResult cancelled = await client.CancelResponseAsync(created.Id);

        Assert.Equal(ResponseStatus.Cancelled, cancelled.Status);
        var bill = _gateway.Simulator.Billing.Find(createId)!;
        Assert.Equal(0, bill.CompletionTokens);
        var record = await _gateway.AuditAsync(createId);
        Assert.Equal(AuditReasons.BackgroundCancelled, record.Reason);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 0, 0), record.Usage);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 0, 150_000, 75_000, 600_000), record.CostNanos);
        var cancel = await _gateway.AuditAsync(cancelId);
        Assert.Equal(("responses.cancel", 0L), (cancel.Endpoint, cancel.CostNanos));
        Assert.Equal(0, _gateway.Quotas.Outstanding);

        // Polling the cancelled response afterwards bills nothing more.
        Assert.Equal(ResponseStatus.Cancelled, (await client.GetResponseAsync(created.Id)).Value.Status);
        Assert.Single(await _gateway.AuditRecordsAsync(), r => r.CostNanos > 0);
    }

    [Fact]
    public async Task StillRunningAtItsMaxLifetime_TheGatewayCancelsItAndBillsTheCancel()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string createId = ids.Use();
        ResponseResult created = await client.CreateResponseAsync(Background("Forever [[sim:hang]]"));
        var tracked = Tracker.Find(created.Id)!;

        for (int i = 0; i < 29; i++)
        {
            await AdvanceAndPollAsync(tracked);
        }

        Assert.False(tracked.Claimed);
        _time.Advance(TimeSpan.FromSeconds(10));
        var record = await tracked.Recorded.WaitAsync(TimeSpan.FromSeconds(30));

        var bill = _gateway.Simulator.Billing.Find(createId)!;
        Assert.Equal(AuditReasons.BackgroundExpired, record.Reason);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 0, 0), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(ResponseStatus.Cancelled, (await client.GetResponseAsync(created.Id)).Value.Status);
        Assert.Equal(0, _gateway.Quotas.Outstanding);
    }

    [Fact]
    public async Task Delete_WhileItRuns_Refused409_AfterItEnded_Deleted()
    {
        string key = await _gateway.CreateKeyAsync();
        var client = _gateway.OpenAI(key).GetResponsesClient();
        ResponseResult created = await client.CreateResponseAsync(Background("Keep [[sim:hold=deleted]] [[sim:tokens=3]]"));

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.DeleteResponseAsync(created.Id));
        Assert.Equal(409, refused.Status);
        Assert.Contains("background_in_progress", refused.GetRawResponse()!.Content.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, _gateway.Quotas.Outstanding);

        _gateway.Simulator.Barrier.Release("deleted");
        await _gateway.Simulator.Billing.WaitForAsync(Bills(created.Id), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        await client.DeleteResponseAsync(created.Id);

        Assert.Equal(0, _gateway.Quotas.Outstanding);
        var billed = Assert.Single(await _gateway.AuditRecordsAsync(), r => r.Endpoint == "responses");
        Assert.Equal(3, billed.Usage.OutputTokens);
    }

    // The gateway's create request id of a response, found from its lease, as the simulator's bill names it.
    private string Bills(string responseId) => Tracker.Find(responseId)?.RequestId ?? throw new InvalidOperationException("not tracked");

    // One poll interval: the gateway's poll runs, and this waits until it has asked the upstream and looked at the answer.
    private async Task AdvanceAndPollAsync(BackgroundResponse tracked)
    {
        var polled = tracked.NextPollEnded;
        _time.Advance(TimeSpan.FromSeconds(10));
        await polled.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task<IReadOnlyList<ReservationLease>> LeasesAsync() =>
        await _gateway.App.Services.GetRequiredService<ILedgerStore>().ReadLeasesAsync(CancellationToken.None);

    private static CreateResponseOptions Background(string text) => new()
    {
        Model = "sim-mini",
        BackgroundModeEnabled = true,
        InputItems = { ResponseItem.CreateUserMessageItem(text) },
    };

    private static CreateResponseOptions Plain(string text) => new()
    {
        Model = "sim-mini",
        InputItems = { ResponseItem.CreateUserMessageItem(text) },
    };
}
