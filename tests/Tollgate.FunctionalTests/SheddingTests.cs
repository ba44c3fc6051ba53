using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Shedding;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Requests beyond <c>Global:MaxConcurrentRequests</c> wait in a bounded queue before they reserve: what a caller sees
/// when the queue is full or the wait runs out (503 <c>overloaded</c>, <c>Retry-After: 1</c>), a caller leaving the
/// queue, per-tenant caps still refusing 429 without keeping a slot, reloads, and the load thresholds. Slots are kept
/// taken by requests held at the simulator (<c>[[sim:hold=NAME]]</c>).
/// </summary>
public sealed class SheddingTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Post_QueueFull_Is503OverloadedRetryAfterOneNothingReservedAndAudited()
    {
        await using var gateway = await StartAsync(capacity: 1, queueLength: 1);
        string key = await gateway.CreateKeyAsync(plan: "open");
        var holder = SendAsync(gateway, key, "held", "[[sim:hold=full]]");
        await HeldAsync(gateway, "full", 1);
        var queued = SendAsync(gateway, key, "queued", "");
        await EventuallyAsync(() => Scheduler(gateway).Waiting == 1);

        using var shed = await SendAsync(gateway, key, "shed", "");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), shed.Headers.RetryAfter?.Delta);
        Assert.Equal("1000", shed.Headers.GetValues("retry-after-ms").Single());
        var (type, code, message) = await ChatCompletionTests.ErrorAsync(shed);
        Assert.Equal(("service_unavailable_error", "overloaded"), (type, code));
        Assert.DoesNotContain("1", message, StringComparison.Ordinal); // the gateway's figures are not revealed
        Assert.False(queued.IsCompleted);

        gateway.Simulator.Barrier.Release("full");
        using (var held = await holder)
        using (var served = await queued)
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (held.StatusCode, served.StatusCode));
        }

        var record = await gateway.AuditAsync("shed");
        Assert.Equal((Decisions.Refused, Protocol.ErrorCodes.Overloaded, 503), (record.Decision, record.Reason, record.Status));
        Assert.Equal((null, 0L, null, "sim-mini"), (record.ReservationId, record.CostNanos, record.UpstreamStatus, record.Model));
        Assert.Null(gateway.Simulator.Billing.Find("shed"));
        Assert.Equal(AuditReasons.Ok, (await gateway.AuditAsync("queued")).Reason);
        await AssertNothingHeldAsync(gateway);
        using var metrics = new HttpClient { BaseAddress = gateway.MetricsAddress };
        string text = await metrics.GetStringAsync("/metrics");
        Assert.Contains("tollgate_shed_total{cause=\"queue_full\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_requests_total{decision=\"refused\",reason=\"overloaded\",model=\"sim-mini\",endpoint=\"chat.completions\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_queue_waiting 0", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_concurrency_slots_in_use 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_WaitRunsOut_Is503OverloadedWhenTheFakeClockPassesMaxQueueWait()
    {
        var time = new FakeTimeProvider(Noon);
        await using var gateway = await StartAsync(capacity: 1, queueLength: 4, time: time, maxWait: "00:00:05");
        string key = await gateway.CreateKeyAsync(plan: "open");
        var holder = SendAsync(gateway, key, "held", "[[sim:hold=slow]]");
        await HeldAsync(gateway, "slow", 1);
        var waiting = SendAsync(gateway, key, "waits", "");
        await EventuallyAsync(() => Scheduler(gateway).Waiting == 1);

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        using var shed = await waiting;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
        Assert.Equal("1", shed.Headers.GetValues("Retry-After").Single());
        Assert.Equal("overloaded", (await ChatCompletionTests.ErrorAsync(shed)).Code);
        gateway.Simulator.Barrier.Release("slow");
        using (var held = await holder)
        {
            Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        }

        var record = await gateway.AuditAsync("waits");
        Assert.Equal((Protocol.ErrorCodes.Overloaded, 503, (string?)null), (record.Reason, record.Status, record.ReservationId));
        await AssertNothingHeldAsync(gateway);
    }

    [Fact]
    public async Task Post_CallerLeavesWhileQueued_LeavesTheQueueAuditedClientAbortedNothingReserved()
    {
        await using var gateway = await StartAsync(capacity: 1, queueLength: 4);
        string key = await gateway.CreateKeyAsync(plan: "open");
        var holder = SendAsync(gateway, key, "held", "[[sim:hold=stay]]");
        await HeldAsync(gateway, "stay", 1);
        using var leave = new CancellationTokenSource();
        var leaving = SendAsync(gateway, key, "leaves", "", cancellationToken: leave.Token);
        await EventuallyAsync(() => Scheduler(gateway).Waiting == 1);

        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        await EventuallyAsync(() => Scheduler(gateway).Waiting == 0);
        var record = await gateway.AuditAsync("leaves");

        Assert.Equal((AuditReasons.ClientAborted, true, (string?)null), (record.Reason, record.ClientAborted, record.ReservationId));
        Assert.Equal(1, Scheduler(gateway).InUse);
        Assert.Null(gateway.Simulator.Billing.Find("leaves"));
        gateway.Simulator.Barrier.Release("stay");
        using (var held = await holder)
        {
            Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        }

        await AssertNothingHeldAsync(gateway);
    }

    [Fact]
    public async Task Post_QueuedRequestOverItsTenantsCap_Is429AndHandsTheSlotOnAtOnce()
    {
        await using var gateway = await StartAsync(capacity: 2, queueLength: 8, configure: c =>
            c["Tenants"] = new JsonObject { ["capped"] = new JsonObject { ["MaxConcurrentRequests"] = 1 } });
        string capped = await gateway.CreateKeyAsync(plan: "open", tenant: "capped");
        string other = await gateway.CreateKeyAsync(plan: "open", tenant: "other");
        var cappedHolder = SendAsync(gateway, capped, "capped-held", "[[sim:hold=capped]]");
        var otherHolder = SendAsync(gateway, other, "other-held", "[[sim:hold=other]]");
        await HeldAsync(gateway, "capped", 1);
        await HeldAsync(gateway, "other", 1);
        var overCap = SendAsync(gateway, capped, "over-cap", "");
        await EventuallyAsync(() => Scheduler(gateway).Waiting == 1);
        var next = SendAsync(gateway, other, "next", "[[sim:hold=next]]");
        await EventuallyAsync(() => Scheduler(gateway).Waiting == 2);

        // One slot frees: it goes to the capped tenant's request (first in the round), which its own cap refuses;
        // the slot passes straight on to the other tenant's request.
        gateway.Simulator.Barrier.Release("other");
        using var refused = await overCap;
        await HeldAsync(gateway, "next", 1);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("concurrency_limit_exceeded", (await ChatCompletionTests.ErrorAsync(refused)).Code);
        Assert.Equal((2, 0), (Scheduler(gateway).InUse, Scheduler(gateway).Waiting));
        gateway.Simulator.Barrier.Release("capped");
        gateway.Simulator.Barrier.Release("next");
        foreach (var response in await Task.WhenAll(cappedHolder, otherHolder, next))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        Assert.Equal("concurrency_limit_exceeded", (await gateway.AuditAsync("over-cap")).Reason);
        await AssertNothingHeldAsync(gateway);
    }

    [Fact]
    public async Task Reload_LargerCapacity_QueuedRequestsGetTheNewSlots()
    {
        await using var gateway = await StartAsync(capacity: 1, queueLength: 8);
        string key = await gateway.CreateKeyAsync(plan: "open");
        var requests = Enumerable.Range(0, 3).Select(i => SendAsync(gateway, key, "r" + i, "[[sim:hold=reload]]")).ToList();
        await HeldAsync(gateway, "reload", 1);
        await EventuallyAsync(() => Scheduler(gateway).Waiting == 2);

        var root = JsonNode.Parse(await File.ReadAllTextAsync(gateway.ConfigPath))!;
        root["Tollgate"]!["Global"]!["MaxConcurrentRequests"] = 3;
        await File.WriteAllTextAsync(gateway.ConfigPath, root.ToJsonString());

        // No request arrives: the queue notices the reload on its own (within QueueStep.RefreshInterval).
        await HeldAsync(gateway, "reload", 3);
        Assert.Equal((3, 0), (Scheduler(gateway).InUse, Scheduler(gateway).Waiting));
        gateway.Simulator.Barrier.Release("reload");
        foreach (var response in await Task.WhenAll(requests))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        await AssertNothingHeldAsync(gateway);
    }

    [Fact]
    public async Task Post_CpuOverThreshold_NewWorkWaitsForASlotToBePassedOnAndIsShedWithoutQueue()
    {
        var load = new SettableLoad();
        await using var gateway = await StartAsync(capacity: 100, queueLength: 4, services: s => s.AddSingleton<ILoadSignal>(load),
            configure: c => c["Gateway"]!["Shedding"] = new JsonObject { ["CpuPercent"] = 80 });
        string key = await gateway.CreateKeyAsync(plan: "open");
        var holder = SendAsync(gateway, key, "held", "[[sim:hold=busy]]");
        await HeldAsync(gateway, "busy", 1);

        load.Current = new LoadSample(95, 0);
        var waiting = SendAsync(gateway, key, "waits", "[[sim:hold=after]]");
        await EventuallyAsync(() => Scheduler(gateway).Waiting == 1);
        Assert.Equal(1, Scheduler(gateway).InUse);
        gateway.Simulator.Barrier.Release("busy");
        await HeldAsync(gateway, "after", 1);

        // The ending request passed its slot on: still one held, and none waiting.
        Assert.Equal((1, 0), (Scheduler(gateway).InUse, Scheduler(gateway).Waiting));
        using (var held = await holder)
        {
            Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        }

        gateway.Simulator.Barrier.Release("after");
        using (var served = await waiting)
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        load.Current = new LoadSample(10, 0);
        using (var calm = await SendAsync(gateway, key, "calm", ""))
        {
            Assert.Equal(HttpStatusCode.OK, calm.StatusCode);
        }

        await AssertNothingHeldAsync(gateway);
    }

    [Fact]
    public async Task Post_MemoryOverThresholdAndNoQueue_OneRunsAtATime_TheRestIs503OverloadedAtOnce()
    {
        var load = new SettableLoad { Current = new LoadSample(0, 3L << 30) };
        await using var gateway = await StartAsync(capacity: 100, queueLength: 0, services: s => s.AddSingleton<ILoadSignal>(load),
            configure: c => c["Gateway"]!["Shedding"] = new JsonObject { ["MemoryBytes"] = 2L << 30 });
        string key = await gateway.CreateKeyAsync(plan: "open");

        // Over the threshold the gateway still runs one request at a time (a memory threshold may not clear by itself).
        var holder = SendAsync(gateway, key, "held", "[[sim:hold=memory]]");
        await HeldAsync(gateway, "memory", 1);
        using (var shed = await SendAsync(gateway, key, "shed", ""))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
            Assert.Equal("overloaded", (await ChatCompletionTests.ErrorAsync(shed)).Code);
        }

        gateway.Simulator.Barrier.Release("memory");
        using (var held = await holder)
        {
            Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        }

        load.Current = new LoadSample(0, 1L << 30);
        using (var served = await SendAsync(gateway, key, "served", ""))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        Assert.Equal(Protocol.ErrorCodes.Overloaded, (await gateway.AuditAsync("shed")).Reason);
        Assert.Null(gateway.Simulator.Billing.Find("shed"));
        await AssertNothingHeldAsync(gateway);
    }

    internal static Task<TestGateway> StartAsync(int capacity, int queueLength, TimeProvider? time = null, string maxWait = "00:00:30",
        Action<JsonObject>? configure = null, Action<IServiceCollection>? services = null) =>
        TestGateway.StartAsync(c =>
        {
            c["Plans"]!["open"] = new JsonObject { ["Models"] = new JsonArray("*") };
            c["Global"]!["MaxConcurrentRequests"] = capacity;
            c["Gateway"]!["QueueLength"] = queueLength;
            c["Gateway"]!["MaxQueueWait"] = maxWait;
            configure?.Invoke(c);
        }, time, services);

    internal static FairScheduler Scheduler(TestGateway gateway) => gateway.App.Services.GetRequiredService<FairScheduler>();

    internal static Task<HttpResponseMessage> SendAsync(TestGateway gateway, string key, string requestId, string directives,
        bool stream = false, CancellationToken cancellationToken = default)
    {
        string body = $$"""{"model":"sim-mini","max_tokens":20,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"shed {{requestId}} {{directives}}"}]}""";
        var request = ChatCompletionTests.Json(key, body);
        request.Headers.Add("x-request-id", requestId);
        return gateway.Http.SendAsync(request, cancellationToken);
    }

    // Requests held at the simulator's barrier: bounded, so that a broken gateway fails the test instead of hanging it.
    internal static async Task HeldAsync(TestGateway gateway, string barrier, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await gateway.Simulator.Barrier.WaitForWaitingAsync(barrier, count, timeout.Token);
    }

    // Something the gateway does on another thread (a request joining the queue, leaving it): polled, bounded.
    internal static async Task EventuallyAsync(Func<bool> condition)
    {
        for (int i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "the condition did not come true");
    }

    // Every slot free, nobody waiting, no reservation outstanding, and the in-flight count back to zero.
    internal static async Task AssertNothingHeldAsync(TestGateway gateway)
    {
        var inFlight = gateway.App.Services.GetRequiredService<Proxy.InFlightRequests>();
        await EventuallyAsync(() => inFlight.Count == 0);
        Assert.Equal((0, 0, 0), (Scheduler(gateway).InUse, Scheduler(gateway).Waiting, gateway.Quotas.Outstanding));
    }

    private sealed class SettableLoad : ILoadSignal
    {
        // Boxed, so that a reader never sees half of a sample written by the test.
        private volatile object _current = default(LoadSample);

        public LoadSample Current
        {
            get => (LoadSample)_current;
            set => _current = value;
        }
    }
}
