using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests.Resilience;

/// <summary>
/// The upstream's own quota joins the same atomic reservation as the caller's limits: when it is used up the model's
/// fallback is tried first, otherwise the request is refused with 429 <c>upstream_quota_exceeded</c> before the
/// upstream is called; a tenant's share keeps one tenant from taking all of it.
/// </summary>
public sealed class UpstreamQuotaTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await ResilienceSetup.StartAsync(c =>
    {
        ResilienceSetup.Upstream(c, "simulator", new JsonObject
        {
            ["Limits"] = new JsonObject { ["RequestsPerMinute"] = 4, ["TenantSharePercent"] = 50 },
        });
        ResilienceSetup.Fallbacks(c, "sim-mini", "sim-backup");
    }, _time);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task TenantShare_AndUpstreamQuota_RefuseBeforeCalling_FallbackTriedFirst()
    {
        var (acmeId, acme) = await _gateway.CreateKeyWithIdAsync(tenant: "acme");
        var (_, other) = await _gateway.CreateKeyWithIdAsync(tenant: "other");
        var (_, third) = await _gateway.CreateKeyWithIdAsync(tenant: "third");
        for (int i = 0; i < 2; i++)
        {
            using var ok = await SendAsync(acme, "sim-large");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Acme has used its half of the upstream's quota: refused without a call, its fallback-less model with 429.
        int calls = _gateway.Engine("simulator").Billing.All.Count;
        using (var refused = await SendAsync(acme, "sim-large"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var (_, code, message) = await ChatCompletionTests.ErrorAsync(refused);
            Assert.Equal("upstream_quota_exceeded", code);
            Assert.DoesNotContain("4", message, StringComparison.Ordinal);
            Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 60);
            var record = await _gateway.AuditAsync(refused.RequestId());
            Assert.Equal((Decisions.Refused, (string?)null), (record.Decision, record.ReservationId));
        }

        // A model with a fallback goes to it instead.
        using (var fellBack = await SendAsync(acme, "sim-mini"))
        {
            Assert.Equal(HttpStatusCode.OK, fellBack.StatusCode);
            var record = await _gateway.AuditAsync(fellBack.RequestId());
            Assert.Equal([("simulator", "upstream_quota_exceeded"), ("backup", "ok")], record.Attempts!.Select(a => (a.Upstream, a.Reason)));
        }

        Assert.Equal(calls, _gateway.Engine("simulator").Billing.All.Count);

        // Another tenant still has its share; once the whole quota is used, everyone is refused.
        for (int i = 0; i < 2; i++)
        {
            using var ok = await SendAsync(other, "sim-large");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var full = await SendAsync(third, "sim-large"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, full.StatusCode);
            Assert.Equal("upstream_quota_exceeded", (await ChatCompletionTests.ErrorAsync(full)).Code);
        }

        // The window slides: a minute later there is room again.
        _time.Advance(TimeSpan.FromSeconds(61));
        using (var later = await SendAsync(acme, "sim-large"))
        {
            Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        }

        await _gateway.AssertNothingHeldAsync(acmeId);
    }

    private Task<HttpResponseMessage> SendAsync(string key, string model) => _gateway.Http.SendAsync(ResilienceSetup.Chat(key, "Hello.", model));
}
