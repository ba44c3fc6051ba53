using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests.Resilience;

/// <summary>
/// The circuit breaker of an upstream through the real server, on a fake clock: opened by 5xx answers (never by
/// 429s), it refuses before anything is reserved with 503 <c>upstream_unavailable</c> and the break's remaining
/// time, sends the model's requests to its fallback meanwhile, and lets one probe through after the break.
/// </summary>
public sealed class CircuitBreakerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestGateway _gateway = null!;
    private string _keyId = "";
    private string _key = "";

    public async Task InitializeAsync()
    {
        _gateway = await ResilienceSetup.StartAsync(c =>
        {
            ResilienceSetup.Upstream(c, "simulator", new JsonObject
            {
                ["CircuitBreaker"] = new JsonObject
                {
                    ["FailureRatio"] = 0.5,
                    ["MinimumThroughput"] = 2,
                    ["SamplingDuration"] = "00:00:30",
                    ["BreakDuration"] = "00:00:20",
                },
            });
            ResilienceSetup.Fallbacks(c, "sim-mini", "sim-backup");
        }, _time);
        (_keyId, _key) = await _gateway.CreateKeyWithIdAsync();
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Breaker_WalksClosedOpenHalfOpenClosed_RefusingBeforeReserving()
    {
        // 429s are not failures: had these two counted, the breaker would be open before the 500s below.
        for (int i = 0; i < 2; i++)
        {
            using var limited = await SendAsync("[[sim:rate_limit]]");
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal("upstream_rate_limited", (await ChatCompletionTests.ErrorAsync(limited)).Code);
        }

        // Two 500s out of four calls within the window: open.
        for (int i = 0; i < 2; i++)
        {
            using var failed = await SendAsync("[[sim:error]]");
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        int calls = _gateway.Engine("simulator").Billing.All.Count;
        _time.Advance(TimeSpan.FromSeconds(5));
        using (var refused = await SendAsync("fine"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            var (type, code, message) = await ChatCompletionTests.ErrorAsync(refused);
            Assert.Equal(("service_unavailable_error", "upstream_unavailable"), (type, code));
            Assert.Contains("paused for 15s", message, StringComparison.Ordinal);
            Assert.Equal("15", refused.Headers.GetValues("Retry-After").Single());
            var record = await _gateway.AuditAsync(refused.RequestId());
            Assert.Equal((Decisions.Refused, "upstream_unavailable", 503), (record.Decision, record.Reason, record.Status));
            Assert.Null(record.ReservationId);
            var attempt = Assert.Single(record.Attempts!);
            Assert.Equal(("simulator", "upstream_unavailable", (string?)null), (attempt.Upstream, attempt.Reason, attempt.ReservationId));
        }

        Assert.Equal(calls, _gateway.Engine("simulator").Billing.All.Count);
        await _gateway.AssertNothingHeldAsync(_keyId);

        // After the break the next request is the probe; its success closes the breaker.
        _time.Advance(TimeSpan.FromSeconds(15));
        using (var probe = await SendAsync("fine"))
        {
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        using (var after = await SendAsync("fine"))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            Assert.Null((await _gateway.AuditAsync(after.RequestId())).Attempts);
        }

        await _gateway.AssertNothingHeldAsync(_keyId);
    }

    [Fact]
    public async Task FailedProbe_OpensTheBreakerForAnotherBreak()
    {
        for (int i = 0; i < 2; i++)
        {
            using var failed = await SendAsync("[[sim:error]]");
        }

        _time.Advance(TimeSpan.FromSeconds(20));
        using (var probe = await SendAsync("[[sim:error]]"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, probe.StatusCode);
        }

        using var refused = await SendAsync("fine");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("20", refused.Headers.GetValues("Retry-After").Single());
        await _gateway.AssertNothingHeldAsync(_keyId);
    }

    [Fact]
    public async Task OpenBreaker_SendsTheModelsRequestsToItsFallbackFirst()
    {
        // Each failing request falls back (and succeeds) while its 500 counts against the primary's breaker.
        for (int i = 0; i < 2; i++)
        {
            using var fellBack = await SendAsync("[[sim:error]] [[sim:first=1]]", "sim-mini");
            Assert.Equal(HttpStatusCode.OK, fellBack.StatusCode);
        }

        int calls = _gateway.Engine("simulator").Billing.All.Count;
        using var response = await SendAsync("fine [[sim:tokens=5]]", "sim-mini");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("sim-backup", response.Headers.GetValues("x-tollgate-fallback-model").Single());
        Assert.Equal(calls, _gateway.Engine("simulator").Billing.All.Count);
        var record = await _gateway.AuditAsync(response.RequestId());
        Assert.Equal(
            [("simulator", "upstream_unavailable", false), ("backup", "ok", true)],
            record.Attempts!.Select(a => (a.Upstream, a.Reason, a.ReservationId is not null)));
        Assert.Equal(5, record.Usage.OutputTokens);
        Assert.Equal(3, await _gateway.RequestsCountedAsync(_keyId));
        await _gateway.AssertNothingHeldAsync(_keyId);
    }

    private Task<HttpResponseMessage> SendAsync(string content, string model = "sim-large") =>
        _gateway.Http.SendAsync(ResilienceSetup.Chat(_key, content, model));
}
