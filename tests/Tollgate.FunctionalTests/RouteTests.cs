using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Every route authenticates first: a bad key is a 401 whatever the path, an unknown route a 404 audited under the
/// caller. <c>GET /v1/models/{id}</c> answers for the caller's plan only: any other model looks exactly like one that
/// does not exist.
/// </summary>
public sealed class RouteTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("tgk_not-a-real-key")]
    [InlineData(null)]
    public async Task UnknownRoute_BadOrMissingKey_Is401AndAudited(string? key)
    {
        using var response = await _gateway.Http.SendAsync(Post("/v1/assistants", key));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var (type, code, _) = await ChatCompletionTests.ErrorAsync(response);
        Assert.Equal(("authentication_error", "invalid_api_key"), (type, code));
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((Decisions.Refused, "invalid_api_key", 401, "unrouted"), (record.Decision, record.Reason, record.Status, record.Endpoint));
        Assert.Null(record.Tenant);
    }

    [Fact]
    public async Task UnknownRoute_ValidKey_Is404AuditedUnderTheCaller()
    {
        var (id, key) = await _gateway.CreateKeyWithIdAsync(tenant: "acme", user: "alice");
        int before = _gateway.Simulator.Billing.All.Count;

        using var response = await _gateway.Http.SendAsync(Post("/v1/assistants", key));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var (type, code, _) = await ChatCompletionTests.ErrorAsync(response);
        Assert.Equal(("invalid_request_error", "not_found"), (type, code));
        Assert.Equal(before, _gateway.Simulator.Billing.All.Count);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((Decisions.Refused, "not_found", 404), (record.Decision, record.Reason, record.Status));
        Assert.Equal((id, "acme", "alice"), (record.KeyId, record.Tenant, record.User));
    }

    [Fact]
    public async Task GetModel_OfficialClient_ModelInThePlan()
    {
        var ids = new RequestIdPolicy();
        var (keyId, key) = await _gateway.CreateKeyWithIdAsync(plan: "premium");
        var client = _gateway.OpenAI(key, ids).GetOpenAIModelClient();
        string requestId = ids.Use();

        var model = (await client.GetModelAsync("sim-large")).Value;

        Assert.Equal(("sim-large", "tollgate"), (model.Id, model.OwnedBy));
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Allowed, "models.retrieve", "sim-large", keyId), (record.Decision, record.Endpoint, record.Model, record.KeyId));
    }

    [Theory]
    [InlineData("sim-large")]
    [InlineData("no-such-model")]
    public async Task GetModel_OfficialClient_OutsideThePlanOrUnknown_404(string name)
    {
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(plan: "free")).GetOpenAIModelClient();

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.GetModelAsync(name));

        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetModel_OutsideThePlan_LooksExactlyLikeANonexistentModel()
    {
        var (keyId, key) = await _gateway.CreateKeyWithIdAsync(plan: "free", user: "bob");

        var (outside, outsideId) = await GetAsync("/v1/models/sim-large", key);
        var (unknown, unknownId) = await GetAsync("/v1/models/sim-larger", key);

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (outside.Status, unknown.Status));
        Assert.Equal(unknown.Headers, outside.Headers);
        Assert.Equal(unknown.Body, outside.Body.Replace("sim-large", "sim-larger", StringComparison.Ordinal));
        using var body = JsonDocument.Parse(outside.Body);
        var error = body.RootElement.GetProperty("error");
        Assert.Equal(("invalid_request_error", "model_not_found", "model"),
            (error.GetProperty("type").GetString(), error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        foreach (string requestId in new[] { outsideId, unknownId })
        {
            var record = await _gateway.AuditAsync(requestId);
            Assert.Equal((Decisions.Refused, "model_not_found", 404, "models.retrieve"), (record.Decision, record.Reason, record.Status, record.Endpoint));
            Assert.Equal((keyId, "acme", "bob"), (record.KeyId, record.Tenant, record.User));
        }
    }

    [Fact]
    public async Task GetModel_BadKey_Is401AndAudited()
    {
        var (response, requestId) = await GetAsync("/v1/models/sim-mini", "tgk_not-a-real-key");

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal((Decisions.Refused, "invalid_api_key", 401, "models.retrieve"), (record.Decision, record.Reason, record.Status, record.Endpoint));
    }

    private static HttpRequestMessage Post(string path, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"model":"sim-mini","input":"hi"}""", Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }

    // The status, the headers that are not per request (request id, date), and the body.
    private async Task<((HttpStatusCode Status, string Headers, string Body) Response, string RequestId)> GetAsync(string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _gateway.Http.SendAsync(request);
        string requestId = response.Headers.GetValues("x-request-id").Single();
        string headers = string.Join("\n", response.Headers.Concat(response.Content.Headers)
            .Where(h => !h.Key.Equals("x-request-id", StringComparison.OrdinalIgnoreCase) && h.Key is not ("Date" or "Content-Length"))
            .Select(h => h.Key + ": " + string.Join(",", h.Value))
            .Order(StringComparer.Ordinal));
        return ((response.StatusCode, headers, await response.Content.ReadAsStringAsync()), requestId);
    }
}
