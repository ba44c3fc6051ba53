using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Responses;

namespace Tollgate.FunctionalTests;

/// <summary>
/// What a <c>previous_response_id</c> continuation reserves — the chain the ledger knows plus the counted input, the
/// chain capped at the model's context window — and how a response that ends <c>failed</c> is billed, plain and streamed.
/// </summary>
public sealed class ResponsesChainAndFailureTests : IAsyncLifetime
{
    private const long PremiumTokensPerMinute = 2_000_000;
    private const long SimMiniContextWindow = 128_000;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task PreviousResponseId_ChainWithinTheWindow_ReservedAsChainPlusInputAndSettledToTheBill()
    {
        string key = await _gateway.CreateKeyAsync(plan: "premium");
        using var first = await PostAsync(key, """{"model":"sim-mini","input":"Start a story [[sim:tokens=30]]"}""");
        using var firstBody = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        var firstBill = _gateway.Simulator.Billing.Find(RequestId(first))!;
        string previousId = firstBody.RootElement.GetProperty("id").GetString()!;

        using var second = await PostAsync(key, $$"""{"model":"sim-mini","input":"Go on [[sim:tokens=7]]","max_output_tokens":50,"previous_response_id":"{{previousId}}"}""");
        _ = await second.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var bill = _gateway.Simulator.Billing.Find(RequestId(second))!;
        long newInput = await InputTokensAsync(key, """{"model":"sim-mini","input":"Go on [[sim:tokens=7]]"}""");
        Assert.Equal(firstBill.PromptTokens + firstBill.CompletionTokens + newInput, bill.PromptTokens);
        // Reserved: the chain (the first call's billed input and output) plus the counted new input, and the output cap;
        // after the first call's own bill.
        long reserved = firstBill.PromptTokens + 30 + newInput + 50;
        Assert.Equal((PremiumTokensPerMinute - (firstBill.PromptTokens + 30) - reserved).ToString(System.Globalization.CultureInfo.InvariantCulture),
            second.Headers.GetValues("x-ratelimit-remaining-tokens").Single());
        var record = await _gateway.AuditAsync(RequestId(second));
        Assert.Equal((50L, UsageSource.Reported), (record.OutputCap, record.UsageSource));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 7, 0), record.Usage);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, 7, 150_000, 75_000, 600_000), record.CostNanos);
    }

    [Fact]
    public async Task PreviousResponseId_ChainOverTheWindow_CountedAtTheWindowAndRefusedBeforeForwarding()
    {
        var (keyId, key) = await _gateway.CreateKeyWithIdAsync(plan: "premium");
        // A chain the ledger knows as larger than the model's window (recorded under a larger window, before a reload).
        await _gateway.App.Services.GetRequiredService<IResponseOwnerStore>().RecordAsync(
            new StoredResponse("resp_long_chain", keyId, "sim-mini", 300_000, 2_000, _gateway.Time.GetUtcNow()), CancellationToken.None);
        const string Input = """{"model":"sim-mini","input":"And then?"}""";
        const string Continued = """{"model":"sim-mini","input":"And then?","previous_response_id":"resp_long_chain"}""";
        int bills = _gateway.Simulator.Billing.All.Count;

        long alone = await InputTokensAsync(key, Input);
        long withChain = await InputTokensAsync(key, Continued);
        using var refused = await PostAsync(key, Continued);

        Assert.Equal(alone + SimMiniContextWindow, withChain);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var error = await ChatCompletionTests.ErrorAsync(refused);
        Assert.Equal((ErrorTypes.InvalidRequest, ErrorCodes.ContextLengthExceeded), (error.Type, error.Code));
        Assert.Equal(bills, _gateway.Simulator.Billing.All.Count);
        var record = await _gateway.AuditAsync(RequestId(refused));
        Assert.Equal((Decisions.Refused, ErrorCodes.ContextLengthExceeded, (string?)null), (record.Decision, record.Reason, record.ReservationId));
        Assert.Equal((default(TokenUsage), 0L), (record.Usage, record.CostNanos));
    }

    [Fact]
    public async Task ResponseFailed_Plain_RelayedWithItsCostAndBilledItsUsage()
    {
        string key = await _gateway.CreateKeyAsync();

        using var response = await PostAsync(key, """{"model":"sim-mini","input":"Try this [[sim:failed]] [[sim:tokens=9]]"}""");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("failed", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("server_error", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        var bill = _gateway.Simulator.Billing.Find(RequestId(response))!;
        var record = await _gateway.AuditAsync(RequestId(response));
        AssertBilled(record, bill, 9);
        Assert.Equal(record.CostNanos, body.RootElement.GetProperty("usage").GetProperty("cost_nanousd").GetInt64());
    }

    [Fact]
    public async Task ResponseFailed_Stream_FinalEventRelayedWithItsCostAndBilledItsUsage()
    {
        string key = await _gateway.CreateKeyAsync();

        using var response = await PostAsync(key, """{"model":"sim-mini","stream":true,"input":"Try this [[sim:failed]] [[sim:tokens=6]]"}""");
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string[] events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("event: response.failed\n", events[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("event: error", text, StringComparison.Ordinal);
        using var final = JsonDocument.Parse(events[^1].Split('\n')[1]["data: ".Length..]);
        var bill = _gateway.Simulator.Billing.Find(RequestId(response))!;
        var record = await _gateway.AuditAsync(RequestId(response));
        AssertBilled(record, bill, 6);
        Assert.True(record.Stream);
        Assert.Equal(record.CostNanos, final.RootElement.GetProperty("response").GetProperty("usage").GetProperty("cost_nanousd").GetInt64());
    }

    private static void AssertBilled(AuditRecord record, Simulator.SimulatorBill bill, long output)
    {
        Assert.Equal((output, "responses"), (bill.CompletionTokens, bill.Endpoint));
        Assert.Equal((Decisions.Allowed, 200, UsageSource.Reported), (record.Decision, record.Status, record.UsageSource));
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, output, 0), record.Usage);
        Assert.Equal(ChatCompletionTests.ExpectedCost(bill.PromptTokens, 0, output, 150_000, 75_000, 600_000), record.CostNanos);
    }

    private async Task<long> InputTokensAsync(string key, string body)
    {
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body, "/v1/responses/input_tokens"));
        using var counted = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return counted.RootElement.GetProperty("input_tokens").GetInt64();
    }

    private Task<HttpResponseMessage> PostAsync(string key, string body) =>
        _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body, "/v1/responses"));

    private static string RequestId(HttpResponseMessage response) => response.Headers.GetValues("x-request-id").Single();
}
