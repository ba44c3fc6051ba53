using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>Every refusal: the right status and OpenAI error, no upstream call, and exactly one audit record.</summary>
public sealed class AdmissionTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c => c["Gateway"]!["MaxRequestBodyBytes"] = 65536);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("""{"model":"sim-mini","messages":[{"role":"user","content":"hi"}]""", null)]
    [InlineData("""{"model":"sim-mini","model":"sim-large","messages":[{"role":"user","content":"hi"}]}""", null)]
    [InlineData("""{"model":42,"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"sim-mini","messages":"hi"}""", "messages")]
    [InlineData("""{"model":"sim-mini","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "stream")]
    [InlineData("""{"model":"sim-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":-5}""", "max_tokens")]
    [InlineData("""{"model":"sim-mini","messages":[{"role":"user","content":"hi"}],"n":"two"}""", "n")]
    [InlineData("""[1,2,3]""", null)]
    public async Task Post_MalformedBody_Is400InvalidRequestWithoutUpstreamCall(string body, string? param)
    {
        string key = await _gateway.CreateKeyAsync();
        int before = _gateway.Simulator.Billing.All.Count;

        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (type, code, _) = await ChatCompletionTests.ErrorAsync(response);
        Assert.Equal(("invalid_request_error", "invalid_request_error"), (type, code));
        Assert.Equal(before, _gateway.Simulator.Billing.All.Count);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((Decisions.Refused, "invalid_request_error", 400), (record.Decision, record.Reason, record.Status));
        _ = param;
    }

    [Fact]
    public async Task Post_DuplicateKeys_MessageNamesTheProblemNotTheBody()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key,
            """{"model":"sim-mini","messages":[{"role":"user","content":"x","content":"y"}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("duplicate", (await ChatCompletionTests.ErrorAsync(response)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_OversizedBody_Is413BeforeReadingItWhole()
    {
        string key = await _gateway.CreateKeyAsync();
        string big = new('a', 200_000);
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, $$"""{"model":"sim-mini","messages":[{"role":"user","content":"{{big}}"}]}"""));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", (await ChatCompletionTests.ErrorAsync(response)).Code);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("request_too_large", record.Reason);
    }

    [Fact]
    public async Task Post_OversizedChunkedBody_Is413()
    {
        string key = await _gateway.CreateKeyAsync();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($$"""{"model":"sim-mini","messages":[{"role":"user","content":"{{new string('b', 100_000)}}"}]}""")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Post_UnknownModel_Is404ModelNotFound()
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"gpt-17","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model_not_found", (await ChatCompletionTests.ErrorAsync(response)).Code);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(("model_not_found", "gpt-17"), (record.Reason, record.Model));
    }

    [Fact]
    public async Task Post_ModelOutsidePlan_Is403ModelNotAllowed()
    {
        string key = await _gateway.CreateKeyAsync(plan: "free");
        int before = _gateway.Simulator.Billing.All.Count;
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-large","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var (type, code, message) = await ChatCompletionTests.ErrorAsync(response);
        Assert.Equal(("permission_error", "model_not_allowed"), (type, code));
        Assert.Contains("free", message, StringComparison.Ordinal);
        Assert.Equal(before, _gateway.Simulator.Billing.All.Count);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((Decisions.Refused, "model_not_allowed", "sim-large"), (record.Decision, record.Reason, record.Model));
    }

    [Fact]
    public async Task Post_AliasResolves_AndIsAuthorizedAsTheRealModel()
    {
        string key = await _gateway.CreateKeyAsync(plan: "free");
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini-latest","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("sim-mini", record.Model);
        Assert.Equal("sim-mini", _gateway.Simulator.Billing.Find(record.RequestId)!.Model);
    }

    [Theory]
    [InlineData("text/plain", null)]
    [InlineData("application/json", "gzip")]
    [InlineData("application/json; charset=latin1", null)]
    public async Task Post_UnsupportedMediaType_Is415(string contentType, string? encoding)
    {
        string key = await _gateway.CreateKeyAsync();
        var content = new ByteArrayContent("""{"model":"sim-mini","messages":[{"role":"user","content":"hi"}]}"""u8.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("unsupported_media_type", (await ChatCompletionTests.ErrorAsync(response)).Code);
    }

    [Fact]
    public async Task Get_UnknownV1Route_IsTyped404AndNeverPassedThrough()
    {
        string key = await _gateway.CreateKeyAsync();
        int before = _gateway.Simulator.Billing.All.Count;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/fine_tuning/jobs") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", (await ChatCompletionTests.ErrorAsync(response)).Code);
        Assert.Equal(before, _gateway.Simulator.Billing.All.Count);
    }

    [Fact]
    public async Task Get_Models_ListsOnlyThePlansModels()
    {
        string key = await _gateway.CreateKeyAsync(plan: "free");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        using var response = await _gateway.Http.SendAsync(request);

        var ids = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["sim-mini"], ids);
    }

    [Fact]
    public async Task Get_ModelsWithOfficialClient_PremiumSeesAll()
    {
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(plan: "premium")).GetOpenAIModelClient();
        var models = await client.GetModelsAsync();
        Assert.Equal(["sim-claude", "sim-embed", "sim-large", "sim-mini"], models.Value.Select(m => m.Id).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task Get_Health_ReadyAndAlive()
    {
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Http.GetAsync("/healthz")).StatusCode);
        using var ready = await _gateway.Http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("ready", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_OnSeparateListener_CountDecisionsWithoutPerKeyLabels()
    {
        string key = await _gateway.CreateKeyAsync();
        using (var ok = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","messages":[{"role":"user","content":"metrics"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (await _gateway.Http.SendAsync(ChatCompletionTests.Json("tgk_wrong", """{"model":"sim-mini","messages":[]}""")))
        {
        }

        Assert.Equal(HttpStatusCode.NotFound, (await _gateway.Http.GetAsync("/metrics")).StatusCode);
        using var metrics = new HttpClient { BaseAddress = _gateway.MetricsAddress };
        string text = await metrics.GetStringAsync("/metrics");
        Assert.Contains("tollgate_requests_total{decision=\"allowed\",reason=\"ok\",model=\"sim-mini\",endpoint=\"chat.completions\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("reason=\"invalid_api_key\"", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_tokens_total{kind=\"output\",model=\"sim-mini\"}", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_gateway_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_upstream_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_requests_in_flight 0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("key_", text, StringComparison.Ordinal);
        Assert.DoesNotContain("acme", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_RequestId_EchoedAndAuditedWithUpstreamId()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","messages":[{"role":"user","content":"ids"}]}""");
        request.Headers.Add("x-request-id", "caller-chosen-42");

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal("caller-chosen-42", response.Headers.GetValues("x-request-id").Single());
        var record = await _gateway.AuditAsync("caller-chosen-42");
        Assert.StartsWith("req_sim", record.UpstreamRequestId, StringComparison.Ordinal);
        Assert.Equal(record.UpstreamRequestId, response.Headers.GetValues("x-upstream-request-id").Single());
    }

    [Fact]
    public async Task Post_InvalidRequestId_ReplacedWithGeneratedOne()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","messages":[{"role":"user","content":"ids"}]}""");
        request.Headers.TryAddWithoutValidation("x-request-id", "bad id with spaces");

        using var response = await _gateway.Http.SendAsync(request);

        Assert.StartsWith("req_", response.Headers.GetValues("x-request-id").Single(), StringComparison.Ordinal);
    }
}
