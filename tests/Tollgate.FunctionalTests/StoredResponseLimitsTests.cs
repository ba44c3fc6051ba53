#pragma warning disable OPENAI001 // the Responses client is marked experimental
using System.ClientModel;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Responses;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Polling a stored response never bills tokens or money; it counts against the plan's request limits only where the
/// plan says so (<c>CountStoredResponseCalls</c>).
/// </summary>
public sealed class StoredResponseLimitsTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        c["Plans"]!["polls-count"] = new JsonObject { ["Models"] = new JsonArray("*"), ["RequestsPerMinute"] = 2, ["CountStoredResponseCalls"] = true };
        c["Plans"]!["polls-free"] = new JsonObject { ["Models"] = new JsonArray("*"), ["RequestsPerMinute"] = 2 };
        // One concurrent request: polls count requests only, not concurrency.
        c["Plans"]!["polls-tight"] = new JsonObject
        {
            ["Models"] = new JsonArray("*"),
            ["CountStoredResponseCalls"] = true,
            ["MaxConcurrentRequests"] = 1,
        };
    }, _time);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task PlanCountsStoredResponseCalls_PollsUseTheRequestLimit_StillUnbilled()
    {
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(plan: "polls-count")).GetResponsesClient();
        ResponseResult created = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            InputItems = { ResponseItem.CreateUserMessageItem("Keep this [[sim:tokens=5]]") },
        });
        int bills = _gateway.Simulator.Billing.All.Count;

        await client.GetResponseAsync(created.Id);
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(created.Id));

        Assert.Equal(429, refused.Status);
        Assert.Contains("requests per minute limit 2", refused.Message, StringComparison.Ordinal);
        Assert.Equal(bills, _gateway.Simulator.Billing.All.Count);
        var polls = (await _gateway.AuditRecordsAsync()).Where(r => r.Endpoint == "responses.retrieve").ToList();
        Assert.Equal(2, polls.Count);
        Assert.Single(polls, r => r.Decision == Decisions.Refused && r.Reason == "rate_limit_exceeded");
        Assert.All(polls, r => Assert.Equal(0, r.CostNanos));
        Assert.Equal(0, _gateway.Quotas.Outstanding);

        // Once the window has moved past both requests, there is room again.
        _time.Advance(TimeSpan.FromSeconds(62));
        Assert.Equal(created.Id, (await client.GetResponseAsync(created.Id)).Value.Id);
    }

    [Fact]
    public async Task CountedPolls_AreNotRefusedByTheConcurrencyLimit()
    {
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(plan: "polls-tight")).GetResponsesClient();
        ResponseResult created = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            InputItems = { ResponseItem.CreateUserMessageItem("Keep this [[sim:tokens=5]]") },
        });

        // The key's one concurrent request is taken by another answer in progress; a poll still counts a request only.
        var held = client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            InputItems = { ResponseItem.CreateUserMessageItem("Hold this [[sim:hold=polls]] [[sim:tokens=5]]") },
        });
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await _gateway.Simulator.Barrier.WaitForWaitingAsync("polls", 1, timeout.Token);
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(created.Id, (await client.GetResponseAsync(created.Id)).Value.Id);
        }

        _gateway.Simulator.Barrier.Release("polls");
        await held;
        Assert.All((await _gateway.AuditRecordsAsync()).Where(r => r.Endpoint == "responses.retrieve"), r => Assert.Equal(Decisions.Allowed, r.Decision));
        Assert.Equal(0, _gateway.Quotas.Outstanding);
    }

    [Fact]
    public async Task PlanDoesNotCount_PollsAreNeverLimitedByRequestLimits()
    {
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(plan: "polls-free")).GetResponsesClient();
        ResponseResult created = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            InputItems = { ResponseItem.CreateUserMessageItem("Keep this [[sim:tokens=5]]") },
        });

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(created.Id, (await client.GetResponseAsync(created.Id)).Value.Id);
        }

        Assert.All((await _gateway.AuditRecordsAsync()).Where(r => r.Endpoint == "responses.retrieve"), r => Assert.Equal(Decisions.Allowed, r.Decision));
    }
}
