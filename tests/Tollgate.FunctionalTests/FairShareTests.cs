using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using static Tollgate.FunctionalTests.SheddingTests;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Fair share, measured by admission order and share rather than wall time: while one tenant floods the queue,
/// another is admitted at its weight's share; and a race of many tenants' requests held in flight, queued, shed and
/// abandoned leaves no slot or reservation behind and exactly one audit record per request.
/// </summary>
public sealed class FairShareTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1, "flood calm flood calm flood calm flood calm flood calm flood calm")]
    [InlineData(3, "flood calm calm calm flood calm calm calm flood flood flood flood")]
    public async Task Post_OneTenantFloods_TheOtherIsAdmittedAtItsShare(int calmWeight, string expected)
    {
        await using var gateway = await StartAsync(capacity: 1, queueLength: 64, configure: c =>
            c["Tenants"] = new JsonObject { ["calm"] = new JsonObject { ["Weight"] = calmWeight } });
        string flooder = await gateway.CreateKeyAsync(plan: "open", tenant: "flood");
        string calm = await gateway.CreateKeyAsync(plan: "open", tenant: "calm");
        var first = SendAsync(gateway, flooder, "first", "[[sim:hold=first]]");
        await HeldAsync(gateway, "first", 1);
        // The flood is queued first, then the calm tenant's requests: each held at a barrier of its own once admitted.
        var pending = new Dictionary<string, (string Tenant, Task<HttpResponseMessage> Response)>(StringComparer.Ordinal);
        for (int i = 0; i < 30; i++)
        {
            pending["f" + i] = ("flood", SendAsync(gateway, flooder, "f" + i, $"[[sim:hold=f{i}]]"));
        }

        await EventuallyAsync(() => Scheduler(gateway).Waiting == 30);
        for (int i = 0; i < 6; i++)
        {
            pending["c" + i] = ("calm", SendAsync(gateway, calm, "c" + i, $"[[sim:hold=c{i}]]"));
        }

        await EventuallyAsync(() => Scheduler(gateway).Waiting == 36);

        // One slot: each time the request holding it ends, the next by fair share takes it and shows up held.
        var order = new List<string>();
        string holding = "first";
        for (int admitted = 0; admitted < 12; admitted++)
        {
            gateway.Simulator.Barrier.Release(holding);
            string? next = null;
            await EventuallyAsync(() => (next = pending.Keys.FirstOrDefault(id => gateway.Simulator.Barrier.Waiting(id) == 1)) is not null);
            order.Add(pending[next!].Tenant);
            holding = next!;
        }

        Assert.Equal(expected, string.Join(' ', order));
        foreach (string id in pending.Keys)
        {
            gateway.Simulator.Barrier.Release(id);
        }

        foreach (var response in await Task.WhenAll(pending.Values.Select(p => p.Response).Append(first)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        await AssertNothingHeldAsync(gateway);
    }

    [Fact]
    public async Task Race_ManyTenantsHeldQueuedShedAndAbandoned_NoSlotOrReservationLeftAndOneRecordEach()
    {
        const int Tenants = 4, Capacity = 8, QueueLength = 40, PerTenant = 48, Abandoned = 10;
        // The fake clock never moves: no wait runs out, so who is queued and who is shed depends on arrivals only.
        await using var gateway = await StartAsync(Capacity, QueueLength, time: new FakeTimeProvider(Noon), configure: c =>
            c["TenantDefaults"] = new JsonObject { ["MaxConcurrentRequests"] = 64 });
        var keys = new List<string>();
        for (int t = 0; t < Tenants; t++)
        {
            keys.Add(await gateway.CreateKeyAsync(plan: "open", tenant: "t" + t, user: "u" + t));
        }

        // Every slot taken and held at the simulator, streams and plain answers alike.
        var holders = Enumerable.Range(0, Capacity)
            .Select(i => SendAsync(gateway, keys[i % Tenants], "hold-" + i, "[[sim:hold=stress]]", stream: i % 2 == 0)).ToList();
        await HeldAsync(gateway, "stress", Capacity);

        // Then a flood from every tenant at once: the queue takes 40, balanced between tenants; the rest are shed.
        var random = new Random(7);
        var flood = new List<(string Id, CancellationTokenSource Leave, Task<HttpResponseMessage> Response)>();
        foreach (int i in Enumerable.Range(0, Tenants * PerTenant).OrderBy(_ => random.Next()))
        {
            var leave = new CancellationTokenSource();
            string id = "flood-" + i;
            flood.Add((id, leave, SendAsync(gateway, keys[i % Tenants], id, "[[sim:hold=stress]]", stream: i % 3 == 0, leave.Token)));
        }

        int shedCount = Tenants * PerTenant - QueueLength;
        await EventuallyAsync(() => flood.Count(f => f.Response.IsCompleted) == shedCount && Scheduler(gateway).Waiting == QueueLength);
        foreach (var (_, _, response) in flood.Where(f => f.Response.IsCompleted))
        {
            using var shed = await response;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
            Assert.Equal("1", shed.Headers.GetValues("Retry-After").Single());
            Assert.Equal("overloaded", (await ChatCompletionTests.ErrorAsync(shed)).Code);
        }

        for (int t = 0; t < Tenants; t++)
        {
            Assert.InRange(Scheduler(gateway).WaitingFor("t" + t), QueueLength / Tenants - 1, QueueLength / Tenants + 1);
        }

        // Some queued callers leave; then the simulator lets everything through.
        var queued = flood.Where(f => !f.Response.IsCompleted).ToList();
        Assert.Equal(QueueLength, queued.Count);
        var leaving = queued.Take(Abandoned).ToList();
        foreach (var (_, leave, _) in leaving)
        {
            await leave.CancelAsync();
        }

        await EventuallyAsync(() => Scheduler(gateway).Waiting == QueueLength - Abandoned);
        gateway.Simulator.Barrier.Release("stress");
        foreach (var (_, leave, response) in queued)
        {
            try
            {
                using var done = await response;
                _ = await done.Content.ReadAsStringAsync();
            }
            catch (OperationCanceledException) when (leave.IsCancellationRequested)
            {
                // One of the callers that left.
            }
        }

        foreach (var (_, leave, _) in flood)
        {
            leave.Dispose();
        }

        foreach (var holder in holders)
        {
            using var done = await holder;
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            _ = await done.Content.ReadAsStringAsync();
        }

        await AssertNothingHeldAsync(gateway);
        int total = Capacity + Tenants * PerTenant;
        var records = await gateway.AuditRecordsAsync();
        Assert.Equal(total, records.Count);
        Assert.Equal(total, records.Select(r => r.RequestId).Distinct().Count());
        var reasons = records.GroupBy(r => r.Reason).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(shedCount, reasons["overloaded"]);
        Assert.Equal(Abandoned, reasons[AuditReasons.ClientAborted]);
        Assert.Equal(Capacity + QueueLength - Abandoned, reasons[AuditReasons.Ok]);
        Assert.Equal(3, reasons.Count);
        Assert.All(leaving, l => Assert.Null(records.Single(r => r.RequestId == l.Id).ReservationId));
        Assert.All(records.Where(r => r.Reason != AuditReasons.Ok), r => Assert.Equal((null, 0L), (r.ReservationId, r.CostNanos)));
        Assert.Equal(Capacity + QueueLength - Abandoned, gateway.Simulator.Billing.All.Count);
        for (int t = 0; t < Tenants; t++)
        {
            var concurrency = new Limits.LimitCheck(new Limits.Scope(Limits.ScopeKind.Tenant, "t:t" + t, "tenant", TimeZoneInfo.Utc),
                Limits.Metric.Concurrency, Limits.Window.Concurrent, 1, 0, 0);
            Assert.Equal(0, await gateway.Quotas.UsedAsync(concurrency, Noon, CancellationToken.None));
        }
    }
}
