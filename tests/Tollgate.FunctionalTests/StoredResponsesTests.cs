#pragma warning disable OPENAI001 // the Responses client is marked experimental
using System.ClientModel;
using System.Net;
using System.Text.Json;
using OpenAI.Responses;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Stored responses through the gateway: only the key that created a response may retrieve, delete, cancel or continue
/// it (any other gets the 404 of one that does not exist); retrieving, cancelling and deleting are audited and never
/// billed; continuing one (<c>previous_response_id</c>) is reserved and billed with the chain's hidden input.
/// </summary>
public sealed class StoredResponsesTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Retrieve_ByItsOwner_ReturnedAuditedAndNeverBilled()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        string createId = ids.Use();
        ResponseResult created = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            InputItems = { ResponseItem.CreateUserMessageItem("Keep this [[sim:tokens=11]]") },
        });
        int bills = _gateway.Simulator.Billing.All.Count;

        string retrieveId = ids.Use();
        ResponseResult fetched = await client.GetResponseAsync(created.Id);
        string secondRetrieveId = ids.Use();
        await client.GetResponseAsync(created.Id);

        Assert.Equal(created.Id, fetched.Id);
        Assert.Equal(created.GetOutputText(), fetched.GetOutputText());
        Assert.Equal(bills, _gateway.Simulator.Billing.All.Count);
        var create = await _gateway.AuditAsync(createId);
        Assert.Equal(11, create.Usage.OutputTokens);
        foreach (string id in new[] { retrieveId, secondRetrieveId })
        {
            var record = await _gateway.AuditAsync(id);
            Assert.Equal("responses.retrieve", record.Endpoint);
            Assert.Equal(200, record.Status);
            Assert.Equal((0L, new TokenUsage(0, 0, 0, 0)), (record.CostNanos, record.Usage));
        }
    }

    [Fact]
    public async Task AnotherKey_GetsNotFoundForEveryOperationAndNothingReachesTheUpstream()
    {
        string owner = await _gateway.CreateKeyAsync(user: "owner");
        string other = await _gateway.CreateKeyAsync(user: "other");
        var ownerClient = _gateway.OpenAI(owner).GetResponsesClient();
        ResponseResult created = await ownerClient.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            InputItems = { ResponseItem.CreateUserMessageItem("Mine [[sim:tokens=5]]") },
        });
        int bills = _gateway.Simulator.Billing.All.Count;

        var statuses = new List<HttpStatusCode>();
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, $"/v1/responses/{created.Id}"),
            (HttpMethod.Delete, $"/v1/responses/{created.Id}"),
            (HttpMethod.Post, $"/v1/responses/{created.Id}/cancel"),
            (HttpMethod.Get, "/v1/responses/resp_does_not_exist"),
        })
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", other);
            using var response = await _gateway.Http.SendAsync(request);
            statuses.Add(response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("not_found", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        }

        using var continuation = ChatCompletionTests.Json(other, $$"""{"model":"sim-mini","input":"go on","previous_response_id":"{{created.Id}}"}""", "/v1/responses");
        using var continued = await _gateway.Http.SendAsync(continuation);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.NotFound, s));
        Assert.Equal(HttpStatusCode.NotFound, continued.StatusCode);
        Assert.Equal(bills, _gateway.Simulator.Billing.All.Count);
        // The owner still has it: the other key's delete did not reach the upstream.
        Assert.Equal(created.Id, (await ownerClient.GetResponseAsync(created.Id)).Value.Id);
    }

    [Fact]
    public async Task DeleteAndCancel_ByItsOwner_ForwardedAuditedNeverBilled()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetResponsesClient();
        ResponseResult created = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            InputItems = { ResponseItem.CreateUserMessageItem("Short-lived [[sim:tokens=4]]") },
        });
        int bills = _gateway.Simulator.Billing.All.Count;

        string cancelId = ids.Use();
        ResponseResult cancelled = await client.CancelResponseAsync(created.Id);
        string deleteId = ids.Use();
        ResponseDeletionResult deleted = await client.DeleteResponseAsync(created.Id);
        ids.Use();
        var afterDelete = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(created.Id));

        Assert.Equal(created.Id, cancelled.Id);
        Assert.True(deleted.Deleted);
        Assert.Equal(404, afterDelete.Status);
        Assert.Equal(bills, _gateway.Simulator.Billing.All.Count);
        var cancel = await _gateway.AuditAsync(cancelId);
        var delete = await _gateway.AuditAsync(deleteId);
        Assert.Equal(("responses.cancel", 0L), (cancel.Endpoint, cancel.CostNanos));
        Assert.Equal(("responses.delete", 0L), (delete.Endpoint, delete.CostNanos));
    }

    [Fact]
    public async Task Streamed_RetrievableAsSoonAsTheFinalEventArrives()
    {
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync()).GetResponsesClient();
        string? id = null;
        await foreach (var update in client.CreateResponseStreamingAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            StreamingEnabled = true,
            InputItems = { ResponseItem.CreateUserMessageItem("Streamed and kept [[sim:tokens=6]]") },
        }))
        {
            if (update is StreamingResponseCompletedUpdate done)
            {
                id = done.Response.Id;
                // Still inside the stream: the gateway recorded the owner before relaying this event.
                Assert.Equal(id, (await client.GetResponseAsync(id)).Value.Id);
            }
        }

        Assert.NotNull(id);
    }

    [Fact]
    public async Task PreviousResponseId_ReservedWithTheChainAndBilledExactly()
    {
        var ids = new RequestIdPolicy();
        string key = await _gateway.CreateKeyAsync();
        var client = _gateway.OpenAI(key, ids).GetResponsesClient();
        string firstId = ids.Use();
        ResponseResult first = await client.CreateResponseAsync(new CreateResponseOptions
        {
            Model = "sim-mini",
            InputItems = { ResponseItem.CreateUserMessageItem("Start a story [[sim:tokens=30]]") },
        });
        var firstBill = _gateway.Simulator.Billing.Find(firstId)!;

        // Without usage, the gateway bills its own count: the chain it knows plus the new input — equal to the
        // provider's, which bills the stored chain as input.
        using var request = ChatCompletionTests.Json(key, $$"""{"model":"sim-mini","input":"Go on [[sim:tokens=7]] [[sim:no_usage]]","previous_response_id":"{{first.Id}}"}""", "/v1/responses");
        using var response = await _gateway.Http.SendAsync(request);
        using var secondBody = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
        Assert.True(bill.PromptTokens > firstBill.PromptTokens + firstBill.CompletionTokens);
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal(new TokenUsage(bill.PromptTokens, 0, 7, 0), record.Usage);

        // With usage, the continuation's bill is the provider's, and it can be continued in turn.
        var third = await ChainAsync(key, secondBody.RootElement.GetProperty("id").GetString()!, "And then [[sim:tokens=3]]");
        Assert.Equal(HttpStatusCode.OK, third.Status);
        Assert.Equal(new TokenUsage(third.Bill.PromptTokens, 0, 3, 0), third.Record.Usage);
    }

    [Fact]
    public async Task StreamWithoutUsage_ItsEstimateCarriesIntoTheContinuationsChain()
    {
        string key = await _gateway.CreateKeyAsync();
        using var request = ChatCompletionTests.Json(key, """{"model":"sim-mini","stream":true,"input":"Start a story [[sim:tokens=30]] [[sim:no_usage]]"}""", "/v1/responses");
        using var response = await _gateway.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        using var last = JsonDocument.Parse(ResponsesApiTests.ResponseEvents(body)[^1]);
        string firstId = last.RootElement.GetProperty("response").GetProperty("id").GetString()!;
        var first = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        Assert.Equal((UsageSource.Estimated, 30L), (first.UsageSource, first.Usage.OutputTokens));

        // The stored response's tokens are the estimate's, not zero: the continuation is billed (and was reserved)
        // with the whole chain, as the provider bills it.
        var next = await ChainAsync(key, firstId, "Go on [[sim:tokens=3]]");

        Assert.Equal(HttpStatusCode.OK, next.Status);
        Assert.True(next.Bill.PromptTokens > first.Usage.InputTokens + first.Usage.OutputTokens);
        Assert.True(next.Record.Usage.InputTokens >= first.Usage.InputTokens + first.Usage.OutputTokens);
    }

    [Fact]
    public async Task InputTokens_CountedLocallyEqualToTheProviderAndNeverBilled()
    {
        string key = await _gateway.CreateKeyAsync();
        const string Body = """{"model":"sim-mini","instructions":"Be terse.","input":[{"role":"user","content":"How many tokens? [[sim:tokens=3]]"}]}""";
        int bills = _gateway.Simulator.Billing.All.Count;

        using var count = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body, "/v1/responses/input_tokens"));
        using var counted = JsonDocument.Parse(await count.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, count.StatusCode);
        Assert.Equal("response.input_tokens", counted.RootElement.GetProperty("object").GetString());
        Assert.Equal(bills, _gateway.Simulator.Billing.All.Count);
        var record = await _gateway.AuditAsync(count.Headers.GetValues("x-request-id").Single());
        Assert.Equal(("responses.input_tokens", 0L), (record.Endpoint, record.CostNanos));

        using var create = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body, "/v1/responses"));
        using var created = JsonDocument.Parse(await create.Content.ReadAsStringAsync());
        Assert.Equal(created.RootElement.GetProperty("usage").GetProperty("input_tokens").GetInt64(), counted.RootElement.GetProperty("input_tokens").GetInt64());

        using var refused = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, """{"model":"sim-mini","input":"x","previous_response_id":"resp_nope"}""", "/v1/responses/input_tokens"));
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
    }

    private async Task<(HttpStatusCode Status, AuditRecord Record, Simulator.SimulatorBill Bill)> ChainAsync(string key, string previousId, string text)
    {
        using var request = ChatCompletionTests.Json(key, $$"""{"model":"sim-mini","input":"{{text}}","previous_response_id":"{{previousId}}"}""", "/v1/responses");
        using var response = await _gateway.Http.SendAsync(request);
        _ = await response.Content.ReadAsStringAsync();
        var record = await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
        return (response.StatusCode, record, _gateway.Simulator.Billing.Find(record.RequestId)!);
    }
}
