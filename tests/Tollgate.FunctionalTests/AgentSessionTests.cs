using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Agent sessions as budget scopes: a plan's <c>TaskHeaders</c> turn the session ids agents already send
/// (<c>x-claude-code-session-id</c>, <c>session_id</c>, …) into task ids, the explicit <c>x-tollgate-task</c> winning.
/// </summary>
public sealed class AgentSessionTests : IAsyncLifetime
{
    private const string Loop = """{"model":"sim-mini","max_tokens":10,"messages":[{"role":"user","content":"loop [[sim:tokens=10]]"}]}""";
    private const string Small = """{"model":"sim-mini","max_tokens":10,"messages":[{"role":"user","content":"x"}]}""";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        c["Plans"]!["agents"] = new JsonObject
        {
            ["Models"] = new JsonArray("*"),
            ["TaskBudgetPerDay"] = 0.00003m,
            ["MaxTasksPerKey"] = 3,
            ["TaskHeaders"] = new JsonArray("x-claude-code-session-id", "session_id"),
        };
        c["Plans"]!["plain"] = new JsonObject { ["Models"] = new JsonArray("*"), ["TaskBudgetPerDay"] = 0.00003m };
    }, _time);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task RunawaySession_StopsAtItsOwnBudget_OtherSessionAndUntaggedRequestsContinue()
    {
        string key = await _gateway.CreateKeyAsync(plan: "agents");
        const string session = "6f1c2a9e-0b7d-4c4e-9a51-2f3b8d7e1a10";
        HttpStatusCode last = HttpStatusCode.OK;
        for (int i = 0; i < 20 && last == HttpStatusCode.OK; i++)
        {
            using var response = await SendAsync(key, Loop, ("x-claude-code-session-id", session));
            last = response.StatusCode;
            if (last != HttpStatusCode.OK)
            {
                var (type, _, message) = await ChatCompletionTests.ErrorAsync(response);
                Assert.Equal("insufficient_quota", type);
                Assert.StartsWith($"task {session}: budget per calendar day limit $0.00003", message, StringComparison.Ordinal);
                Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
            }
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        var records = await _gateway.AuditRecordsAsync();
        var sessionRecords = records.Where(r => r.Task == session).ToList();
        Assert.Contains(sessionRecords, r => r.Decision == Decisions.Allowed);
        Assert.True(sessionRecords.Where(r => r.Decision == Decisions.Allowed).Sum(r => r.CostNanos) <= 30_000);

        // Another session of the same key, a Codex-style session header, and a request with no session all go on.
        using var other = await SendAsync(key, Small, ("x-claude-code-session-id", "second-session"));
        using var codex = await SendAsync(key, Small, ("session_id", "codex-session"));
        using var untagged = await SendAsync(key, Small);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (other.StatusCode, codex.StatusCode, untagged.StatusCode));
        Assert.Equal("codex-session", (await _gateway.AuditAsync(RequestId(codex))).Task);
        Assert.Null((await _gateway.AuditAsync(RequestId(untagged))).Task);
    }

    [Fact]
    public async Task ExplicitTask_WinsOverSessionHeader_AndHeadersAreTriedInOrder()
    {
        string key = await _gateway.CreateKeyAsync(plan: "agents");
        using var both = await SendAsync(key, Small, ("x-claude-code-session-id", "claude-1"), ("x-tollgate-task", "explicit-1"));
        using var ordered = await SendAsync(key, Small, ("session_id", "codex-1"), ("x-claude-code-session-id", "claude-2"));

        Assert.Equal(HttpStatusCode.OK, both.StatusCode);
        Assert.Equal("explicit-1", (await _gateway.AuditAsync(RequestId(both))).Task);
        Assert.Equal("claude-2", (await _gateway.AuditAsync(RequestId(ordered))).Task);
    }

    [Fact]
    public async Task SessionIds_CountAgainstMaxTasksPerKey()
    {
        string key = await _gateway.CreateKeyAsync(plan: "agents");
        for (int i = 0; i < 3; i++)
        {
            using var ok = await SendAsync(key, Small, ("x-claude-code-session-id", $"s-{i}"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var fourth = await SendAsync(key, Small, ("x-claude-code-session-id", "s-3"));
        Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
        Assert.Contains("at most 3 task ids per day", (await ChatCompletionTests.ErrorAsync(fourth)).Message, StringComparison.Ordinal);
        using var again = await SendAsync(key, Small, ("x-claude-code-session-id", "s-1"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task InvalidSessionId_400NamesTheHeader_NothingReserved()
    {
        string key = await _gateway.CreateKeyAsync(plan: "agents");
        using var response = await SendAsync(key, Small, ("x-claude-code-session-id", new string('a', 65)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (type, _, message) = await ChatCompletionTests.ErrorAsync(response);
        Assert.Equal("invalid_request_error", type);
        Assert.StartsWith("'x-claude-code-session-id' names the task", message, StringComparison.Ordinal);
        Assert.Equal(0, _gateway.Quotas.Outstanding);
    }

    [Fact]
    public async Task PlanWithoutTaskHeaders_IgnoresSessionHeaders()
    {
        string key = await _gateway.CreateKeyAsync(plan: "plain");
        using var response = await SendAsync(key, Small, ("x-claude-code-session-id", "ignored"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null((await _gateway.AuditAsync(RequestId(response))).Task);
    }

    private static string RequestId(HttpResponseMessage response) => response.Headers.GetValues("x-request-id").Single();

    private Task<HttpResponseMessage> SendAsync(string key, string body, params (string Name, string Value)[] headers)
    {
        var request = ChatCompletionTests.Json(key, body);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return _gateway.Http.SendAsync(request);
    }
}
