using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Tokenization;

namespace Tollgate.FunctionalTests;

/// <summary>
/// The simulator's <c>error</c> (a 500) and <c>garbage</c> (a 200 whose body is not JSON) faults on Anthropic Messages
/// and the Responses API, plain and streamed: the caller gets a 502 <c>upstream_error</c> in its own protocol; a 500
/// is billed nothing, garbage by the upstream's <c>InvalidBody</c> rule (the counted input, and the body that arrived
/// counted as output).
/// </summary>
public sealed class UpstreamFaultsMessagesResponsesTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("/v1/messages", false)]
    [InlineData("/v1/messages", true)]
    [InlineData("/v1/responses", false)]
    [InlineData("/v1/responses", true)]
    public async Task UpstreamServerError_502UpstreamErrorInTheCallersProtocol_NothingBilled(string path, bool stream)
    {
        string key = await _gateway.CreateKeyAsync();
        int bills = _gateway.Simulator.Billing.All.Count;

        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body(path, "Tell me [[sim:error]]", stream), path));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        await AssertUpstreamErrorAsync(response, path);
        Assert.Equal(bills, _gateway.Simulator.Billing.All.Count);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((Decisions.Allowed, ErrorCodes.UpstreamError, 502, (int?)500, stream), (record.Decision, record.Reason, record.Status, record.UpstreamStatus, record.Stream));
        Assert.Equal((default(TokenUsage), 0L, UsageSource.None), (record.Usage, record.CostNanos, record.UsageSource));
    }

    [Theory]
    [InlineData("/v1/messages", false)]
    [InlineData("/v1/messages", true)]
    [InlineData("/v1/responses", false)]
    [InlineData("/v1/responses", true)]
    public async Task UpstreamGarbage_502UpstreamErrorInTheCallersProtocol_BilledTheCountedInput(string path, bool stream)
    {
        string key = await _gateway.CreateKeyAsync();
        string body = Body(path, "Tell me [[sim:garbage]] [[sim:once=" + path[4..] + stream + "]]", stream);

        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body, path));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        await AssertUpstreamErrorAsync(response, path);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((Decisions.Allowed, ErrorCodes.UpstreamError, 502, (int?)200), (record.Decision, record.Reason, record.Status, record.UpstreamStatus));
        Assert.Equal((UsageSource.Estimated, "invalid_body:estimate"), (record.UsageSource, record.BillingRule));

        // The input as the gateway counted it (for sim-mini, the simulator's own count: the same body answered the
        // second time), and the body that arrived counted as output, with the model's tokenizer.
        const string Garbage = "<html>502 Bad Gateway (simulated garbage, not JSON)";
        long input, output;
        if (path == "/v1/messages")
        {
            var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.Approximate, 25);
            Assert.True(AnthropicRequestReader.Messages.TryRead(Encoding.UTF8.GetBytes(body), out var request, out _));
            using (request)
            {
                input = AnthropicRequestReader.Messages.CountInput(request!, counter, long.MaxValue);
            }

            output = counter.CountBounded(Garbage);
        }
        else
        {
            using var again = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body, path));
            _ = await again.Content.ReadAsStringAsync();
            input = _gateway.Simulator.Billing.Find(again.Headers.GetValues("x-request-id").Single())!.PromptTokens;
            output = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase).CountBounded(Garbage);
        }

        Assert.True(output > 0);
        Assert.Equal(new TokenUsage(input, 0, output, 0), record.Usage);
        Assert.Equal(path == "/v1/messages" ? Cost(input, 3_000_000, output, 15_000_000) : Cost(input, 150_000, output, 600_000), record.CostNanos);
    }

    private static long Cost(long input, long inputMicros, long output, long outputMicros) => ((input * inputMicros) + (output * outputMicros) + 999) / 1000;

    private static string Body(string path, string prompt, bool stream)
    {
        string streamField = stream ? ",\"stream\":true" : "";
        return path == "/v1/messages"
            ? $$"""{"model":"sim-claude","max_tokens":64{{streamField}},"messages":[{"role":"user","content":"{{prompt}}"}]}"""
            : $$"""{"model":"sim-mini","max_output_tokens":64{{streamField}},"input":"{{prompt}}"}""";
    }

    private static async Task AssertUpstreamErrorAsync(HttpResponseMessage response, string path)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (path == "/v1/messages")
        {
            Assert.Equal("error", document.RootElement.GetProperty("type").GetString());
            Assert.Equal("api_error", document.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Equal(ErrorCodes.UpstreamError, response.Headers.GetValues("x-tollgate-error-code").Single());
        }
        else
        {
            var error = document.RootElement.GetProperty("error");
            Assert.Equal((ErrorTypes.Server, ErrorCodes.UpstreamError), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        }
    }
}
