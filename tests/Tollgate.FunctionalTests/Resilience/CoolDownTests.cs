using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests.Resilience;

/// <summary>
/// An upstream's 429 cools it down for its <c>Retry-After</c> (at most <c>MaxRetryWait</c>): its requests go to the
/// model's fallback, or are refused without calling it, until the wait is over.
/// </summary>
public sealed class CoolDownTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestGateway _gateway = null!;
    private string _keyId = "";
    private string _key = "";

    public async Task InitializeAsync()
    {
        _gateway = await ResilienceSetup.StartAsync(c =>
        {
            ResilienceSetup.Upstream(c, "simulator", new JsonObject { ["MaxRetryWait"] = "00:00:05" });
            ResilienceSetup.Fallbacks(c, "sim-mini", "sim-backup");
        }, _time);
        (_keyId, _key) = await _gateway.CreateKeyWithIdAsync();
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task UpstreamRateLimit_GoesToFallback_ThenCoolsTheUpstreamDownAtMostMaxRetryWait()
    {
        using (var first = await SendAsync("[[sim:rate_limit]] [[sim:first=1]]", "sim-mini"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var record = await _gateway.AuditAsync(first.RequestId());
            Assert.Equal([(429, "upstream_rate_limited"), (200, "ok")], record.Attempts!.Select(a => (a.Status ?? 0, a.Reason)));
        }

        int calls = _gateway.Engine("simulator").Billing.All.Count;

        // The simulator asked for 7 s; the cool-down is capped at 5 s. Meanwhile the primary is not called at all.
        _time.Advance(TimeSpan.FromSeconds(2));
        using (var fellBack = await SendAsync("fine", "sim-mini"))
        {
            Assert.Equal(HttpStatusCode.OK, fellBack.StatusCode);
            var record = await _gateway.AuditAsync(fellBack.RequestId());
            Assert.Equal(("simulator", "upstream_rate_limited", (string?)null), (record.Attempts![0].Upstream, record.Attempts[0].Reason, record.Attempts[0].ReservationId));
        }

        using (var noFallback = await SendAsync("fine", "sim-large"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, noFallback.StatusCode);
            Assert.Equal("upstream_rate_limited", (await ChatCompletionTests.ErrorAsync(noFallback)).Code);
            Assert.Equal("3", noFallback.Headers.GetValues("Retry-After").Single());
            var record = await _gateway.AuditAsync(noFallback.RequestId());
            Assert.Equal((Decisions.Refused, (string?)null), (record.Decision, record.ReservationId));
        }

        Assert.Equal(calls, _gateway.Engine("simulator").Billing.All.Count);
        _time.Advance(TimeSpan.FromSeconds(3));
        using (var cooled = await SendAsync("fine", "sim-large"))
        {
            Assert.Equal(HttpStatusCode.OK, cooled.StatusCode);
        }

        await _gateway.AssertNothingHeldAsync(_keyId);
    }

    private Task<HttpResponseMessage> SendAsync(string content, string model) => _gateway.Http.SendAsync(ResilienceSetup.Chat(_key, content, model));
}
