using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>Keys: revocation, expiry and rotation apply to the very next request; refusals never reach the upstream.</summary>
public sealed class IdentityTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(time: _time);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Post_RevokedKey_Is401WithAuditAndNoUpstreamCall()
    {
        var (id, secret) = await _gateway.CreateKeyWithIdAsync();
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(secret));
        await _gateway.Keys.RevokeAsync(id, _time.GetUtcNow(), CancellationToken.None);
        int before = _gateway.Simulator.Billing.All.Count;

        using var response = await SendAsync(secret);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var (type, code, message) = await ChatCompletionTests.ErrorAsync(response);
        Assert.Equal(("authentication_error", "invalid_api_key"), (type, code));
        Assert.Contains("revoked", message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, message, StringComparison.Ordinal);
        Assert.Equal(before, _gateway.Simulator.Billing.All.Count);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((Decisions.Refused, "invalid_api_key", id), (record.Decision, record.Reason, record.KeyId));
        Assert.Equal(0, record.CostNanos);
    }

    [Fact]
    public async Task Post_ExpiredKey_Is401FromTheInstantItExpires()
    {
        string secret = await _gateway.CreateKeyAsync(expiresAt: _time.GetUtcNow().AddHours(1));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(secret));

        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(secret));
        _time.Advance(TimeSpan.FromMinutes(1));

        using var response = await SendAsync(secret);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired", (await ChatCompletionTests.ErrorAsync(response)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_RotatedKey_OldSecretWorksDuringGraceOnlyNewAlways()
    {
        var (id, oldSecret) = await _gateway.CreateKeyWithIdAsync();
        string newSecret = (await _gateway.Issuer.RotateAsync(id, TimeSpan.FromMinutes(10), CancellationToken.None))!;

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(oldSecret));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(newSecret));
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(oldSecret));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(newSecret));

        var records = await _gateway.AuditRecordsAsync();
        Assert.All(records, r => Assert.Equal(id, r.KeyId));
    }

    [Fact]
    public async Task Post_RotatedWithoutGrace_OldSecretRefusedAtOnce()
    {
        var (id, oldSecret) = await _gateway.CreateKeyWithIdAsync();
        string newSecret = (await _gateway.Issuer.RotateAsync(id, TimeSpan.Zero, CancellationToken.None))!;

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(oldSecret));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(newSecret));
    }

    [Fact]
    public async Task Post_XApiKeyHeader_Accepted()
    {
        string secret = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(null, Body);
        request.Headers.Add("x-api-key", secret);

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Post_BothHeadersDifferent_Is401EvenIfBothValid()
    {
        string first = await _gateway.CreateKeyAsync();
        string second = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(first, Body);
        request.Headers.Add("x-api-key", second);

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Post_BothHeadersSame_Accepted()
    {
        string secret = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(secret, Body);
        request.Headers.Add("x-api-key", secret);

        Assert.Equal(HttpStatusCode.OK, (await _gateway.Http.SendAsync(request)).StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("tgk_short")]
    [InlineData("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ")]
    [InlineData("tgk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Post_MissingOrUnknownKey_Is401(string? key)
    {
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_api_key", (await ChatCompletionTests.ErrorAsync(response)).Code);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Null(record.Tenant);
    }

    [Fact]
    public async Task Post_PlanChangedWhileRunning_AppliesToNextRequest()
    {
        var (id, secret) = await _gateway.CreateKeyWithIdAsync(plan: "free");
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(secret, "sim-large"));

        await _gateway.Keys.UpdatePlanAsync(id, "basic", CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(secret, "sim-large"));
    }

    private const string Body = """{"model":"sim-mini","messages":[{"role":"user","content":"hello"}]}""";

    private Task<HttpResponseMessage> SendAsync(string key, string model = "sim-mini") =>
        _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body.Replace("sim-mini", model, StringComparison.Ordinal)));

    private async Task<HttpStatusCode> StatusAsync(string key, string model = "sim-mini")
    {
        using var response = await SendAsync(key, model);
        return response.StatusCode;
    }
}
