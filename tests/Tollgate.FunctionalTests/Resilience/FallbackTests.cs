using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests.Resilience;

/// <summary>
/// Ordered fallbacks per model: a failure known to be unbilled goes to the next model (or upstream) the caller's plan
/// includes, each attempt reserved and billed on its own at its own prices, the request counted once, and the one
/// audit record lists every attempt.
/// </summary>
public sealed class FallbackTests
{
    [Fact]
    public async Task ServerError_FallsBackToNextModel_BilledAtItsPricesAndAuditedWithBothAttempts()
    {
        await using var gateway = await ResilienceSetup.StartAsync(c => ResilienceSetup.Fallbacks(c, "sim-mini", "sim-backup"));
        var (keyId, key) = await gateway.CreateKeyWithIdAsync();

        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Tell me. [[sim:error]] [[sim:first=1]] [[sim:tokens=6]]"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("sim-backup", response.Headers.GetValues("x-tollgate-fallback-model").Single());
        var record = await gateway.AuditAsync(response.RequestId());
        Assert.Equal((Decisions.Allowed, "ok", "sim-backup", "backup"), (record.Decision, record.Reason, record.Model, record.Upstream));
        var attempts = record.Attempts!;
        Assert.Equal(2, attempts.Count);
        Assert.Equal(("simulator", "sim-mini", 500, "upstream_error"), (attempts[0].Upstream, attempts[0].Model, attempts[0].Status, attempts[0].Reason));
        Assert.Equal((default(TokenUsage), 0L), (attempts[0].Usage, attempts[0].CostNanos));
        Assert.Equal(("backup", "sim-backup", 200, "ok"), (attempts[1].Upstream, attempts[1].Model, attempts[1].Status, attempts[1].Reason));
        Assert.NotNull(attempts[0].ReservationId);
        Assert.NotEqual(attempts[0].ReservationId, attempts[1].ReservationId);
        Assert.Equal(record.ReservationId, attempts[1].ReservationId);

        // Billed as the backup billed it, at the backup's prices; the primary billed nothing.
        Assert.Empty(gateway.Bills("simulator", response.RequestId()));
        var bill = Assert.Single(gateway.Bills("backup", response.RequestId()));
        Assert.Equal((bill.PromptTokens, bill.CompletionTokens), (record.Usage.InputTokens, record.Usage.OutputTokens));
        Assert.Equal(6, record.Usage.OutputTokens);
        long cost = ResilienceSetup.Cost(bill.PromptTokens, bill.CompletionTokens, ResilienceSetup.BackupInputMicros, ResilienceSetup.BackupOutputMicros);
        Assert.Equal((cost, cost), (record.CostNanos, attempts[1].CostNanos));

        // One caller request counts one request; nothing is left held.
        Assert.Equal(1, await gateway.RequestsCountedAsync(keyId));
        await gateway.AssertNothingHeldAsync(keyId);
    }

    [Fact]
    public async Task FallbackToAnotherUpstream_SameModelAndPrices()
    {
        await using var gateway = await ResilienceSetup.StartAsync(c => ResilienceSetup.Fallbacks(c, "sim-mini", "upstream:backup"));
        var (keyId, key) = await gateway.CreateKeyWithIdAsync();

        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Go. [[sim:error]] [[sim:first=1]] [[sim:tokens=4]]"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("sim-mini", response.Headers.GetValues("x-tollgate-fallback-model").Single());
        var record = await gateway.AuditAsync(response.RequestId());
        Assert.Equal(("sim-mini", "backup"), (record.Model, record.Upstream));
        Assert.Equal(["simulator", "backup"], record.Attempts!.Select(a => a.Upstream));
        var bill = Assert.Single(gateway.Bills("backup", response.RequestId()));
        Assert.Equal(ResilienceSetup.Cost(bill.PromptTokens, bill.CompletionTokens, 150_000, 600_000), record.CostNanos);
        await gateway.AssertNothingHeldAsync(keyId);
    }

    [Fact]
    public async Task FallbackNotInCallersPlan_IsSkipped_OriginalErrorReturned()
    {
        await using var gateway = await ResilienceSetup.StartAsync(c => ResilienceSetup.Fallbacks(c, "sim-mini", "sim-backup"));
        var (keyId, key) = await gateway.CreateKeyWithIdAsync(plan: "mini-only");

        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Go. [[sim:error]] [[sim:first=1]]"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", (await ChatCompletionTests.ErrorAsync(response)).Code);
        Assert.Empty(gateway.Engine("backup").Billing.All);
        var record = await gateway.AuditAsync(response.RequestId());
        Assert.Equal(["sim-mini"], record.Attempts!.Select(a => a.Model));
        await gateway.AssertNothingHeldAsync(keyId);
    }

    [Fact]
    public async Task FallbackRefusedOnBudget_ReturnsTheOriginalError()
    {
        await using var gateway = await ResilienceSetup.StartAsync(c =>
        {
            c["Models"]!["sim-gold"] = new JsonObject
            {
                ["Upstream"] = "backup",
                ["Prices"] = new JsonObject { ["Input"] = 900000, ["Output"] = 900000 },
                ["ContextWindow"] = 128000,
                ["MaxOutputTokens"] = 16384,
            };
            c["Plans"]!["thrifty"] = new JsonObject { ["Models"] = new JsonArray("sim-mini", "sim-gold", "sim-backup"), ["BudgetPerDay"] = 0.5, ["RequestsPerMinute"] = 100 };
            ResilienceSetup.Fallbacks(c, "sim-mini", "sim-gold", "sim-backup");
        });
        var (keyId, key) = await gateway.CreateKeyWithIdAsync(plan: "thrifty");

        // The primary fails, the dear fallback does not fit the budget, and the last one fails too.
        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Go. [[sim:error]] [[sim:first=2]]"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", (await ChatCompletionTests.ErrorAsync(response)).Code);
        var record = await gateway.AuditAsync(response.RequestId());
        Assert.Equal((Decisions.Allowed, "upstream_error", "sim-mini"), (record.Decision, record.Reason, record.Model));
        Assert.Equal(
            [("sim-mini", "upstream_error", true), ("sim-gold", "insufficient_quota", false), ("sim-backup", "upstream_error", true)],
            record.Attempts!.Select(a => (a.Model, a.Reason, a.ReservationId is not null)));
        Assert.Equal((default(TokenUsage), 0L), (record.Usage, record.CostNanos));
        Assert.Equal(1, await gateway.RequestsCountedAsync(keyId));
        await gateway.AssertNothingHeldAsync(keyId);
    }

    [Fact]
    public async Task ConnectFailure_IsRetriedThenFallsBack()
    {
        // A socket bound but never listening: every connection to it is refused at once.
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)closed.LocalEndPoint!).Port;
        await using var gateway = await ResilienceSetup.StartAsync(c =>
        {
            c["Upstreams"]!["down"] = new JsonObject
            {
                ["Kind"] = "openai",
                ["BaseUrl"] = $"http://127.0.0.1:{port}/v1",
                ["Retry"] = new JsonObject { ["MaxRetries"] = 2, ["Delay"] = "00:00:00" },
            };
            c["Models"]!["sim-down"] = new JsonObject { ["Upstream"] = "down", ["Prices"] = new JsonObject { ["Input"] = 1, ["Output"] = 2 } };
            c["Plans"]!["basic"]!["Models"]!.AsArray().Add("sim-down");
            ResilienceSetup.Fallbacks(c, "sim-down", "sim-backup");
        });
        var (keyId, key) = await gateway.CreateKeyWithIdAsync();

        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Hello. [[sim:tokens=3]]", model: "sim-down"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await gateway.AuditAsync(response.RequestId());
        Assert.Equal(
            [("down", null, "upstream_error"), ("down", null, "upstream_error"), ("down", null, "upstream_error"), ("backup", (int?)200, "ok")],
            record.Attempts!.Select(a => (a.Upstream, a.Status, a.Reason)));
        Assert.All(record.Attempts!.Take(3), a => Assert.Equal(0, a.CostNanos));
        Assert.Equal(1, await gateway.RequestsCountedAsync(keyId));
        await gateway.AssertNothingHeldAsync(keyId);
    }

    [Fact]
    public async Task TimeoutBeforeHeaders_MayHaveBeenBilled_IsNeitherRetriedNorFallenBack()
    {
        await using var gateway = await ResilienceSetup.StartAsync(c =>
        {
            ResilienceSetup.Upstream(c, "simulator", new JsonObject
            {
                ["ResponseTimeout"] = "00:00:00.300",
                ["Retry"] = new JsonObject { ["MaxRetries"] = 2, ["Delay"] = "00:00:00" },
            });
            ResilienceSetup.Fallbacks(c, "sim-mini", "sim-backup");
        });
        var (keyId, key) = await gateway.CreateKeyWithIdAsync();

        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Wait. [[sim:hang]]"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream_timeout", (await ChatCompletionTests.ErrorAsync(response)).Code);
        Assert.Empty(gateway.Engine("backup").Billing.All);
        var record = await gateway.AuditAsync(response.RequestId());
        var attempt = Assert.Single(record.Attempts!);
        Assert.Equal(("sim-mini", "upstream_timeout"), (attempt.Model, attempt.Reason));
        Assert.Equal("timeout_before_headers:reservation", record.BillingRule);
        Assert.Equal(UsageSource.Reserved, record.UsageSource);
        Assert.True(record.CostNanos > 0);
        Assert.Equal(record.CostNanos, attempt.CostNanos);
        await gateway.AssertNothingHeldAsync(keyId);
    }

    [Fact]
    public async Task CutStream_AfterTheFirstByte_IsNeverRetriedOrFallenBack()
    {
        await using var gateway = await ResilienceSetup.StartAsync(c =>
        {
            ResilienceSetup.Upstream(c, "simulator", new JsonObject { ["Retry"] = new JsonObject { ["MaxRetries"] = 2, ["Delay"] = "00:00:00" } });
            ResilienceSetup.Fallbacks(c, "sim-mini", "sim-backup");
        });
        var (keyId, key) = await gateway.CreateKeyWithIdAsync();

        using var response = await gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Talk. [[sim:tokens=20]] [[sim:cut=3]]", stream: true));
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"code\":\"upstream_error\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        Assert.Empty(gateway.Engine("backup").Billing.All);
        Assert.Single(gateway.Bills("simulator", response.RequestId()));
        var record = await gateway.AuditAsync(response.RequestId());
        Assert.Null(record.Attempts);
        Assert.Equal("upstream_error", record.Reason);
        await gateway.AssertNothingHeldAsync(keyId);
    }
}
