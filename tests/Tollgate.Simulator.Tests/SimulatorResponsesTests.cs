using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Tokenization;

namespace Tollgate.Simulator.Tests;

/// <summary>The simulator's Responses API: the response object, its stream of named, numbered events, stored responses.</summary>
public sealed class SimulatorResponsesTests
{
    [Fact]
    public async Task Create_Plain_ResponseObjectWithOutputTextAndUsageBilledAsReported()
    {
        using var host = new SimulatorTestHost();
        var body = Request("[[sim:tokens=6]] [[sim:cached=2]] [[sim:reasoning=3]] hello");

        var response = await host.PostJsonAsync("responses", body, "r1");

        Assert.Equal("response", response.GetProperty("object").GetString());
        Assert.StartsWith("resp_sim", response.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("completed", response.GetProperty("status").GetString());
        var message = response.GetProperty("output")[0];
        Assert.Equal(("message", "assistant"), (message.GetProperty("type").GetString(), message.GetProperty("role").GetString()));
        string text = message.GetProperty("content")[0].GetProperty("text").GetString()!;
        Assert.Equal(6, SimulatorTestHost.CountText(text));
        var usage = response.GetProperty("usage");
        Assert.Equal(Count(body), usage.GetProperty("input_tokens").GetInt64());
        Assert.Equal(2, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.Equal(9, usage.GetProperty("output_tokens").GetInt64());
        Assert.Equal(3, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt64());
        var bill = host.Engine.Billing.Find("r1")!;
        Assert.Equal(("responses", 9L, 3L, true), (bill.Endpoint, bill.CompletionTokens, bill.ReasoningTokens, bill.Completed));
    }

    [Fact]
    public async Task Create_MaxOutputTokens_IncompleteWithTheCap()
    {
        using var host = new SimulatorTestHost();
        var body = Request("[[sim:tokens=20]] long");
        body["max_output_tokens"] = 5;

        var response = await host.PostJsonAsync("responses", body);

        Assert.Equal("incomplete", response.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", response.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(5, response.GetProperty("usage").GetProperty("output_tokens").GetInt64());
    }

    [Fact]
    public async Task Stream_NamedNumberedEventsInOrderEndingWithCompletedAndNoDone()
    {
        using var host = new SimulatorTestHost();
        var body = Request("[[sim:tokens=3]] stream");
        body["stream"] = true;

        using var response = await host.PostAsync("responses", body, "s1", HttpCompletionOption.ResponseHeadersRead);
        string raw = await response.Content.ReadAsStringAsync();

        var blocks = raw.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var events = blocks.Select(b => (Name: b.Split('\n')[0]["event: ".Length..], Data: JsonDocument.Parse(b.Split('\n')[1]["data: ".Length..]).RootElement)).ToList();
        Assert.All(events, e => Assert.Equal(e.Name, e.Data.GetProperty("type").GetString()));
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
             "response.output_text.delta", "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
             "response.content_part.done", "response.output_item.done", "response.completed"],
            events.Select(e => e.Name));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        Assert.Equal(JsonValueKind.Null, events[0].Data.GetProperty("response").GetProperty("usage").ValueKind);
        Assert.Equal(3, events[^1].Data.GetProperty("response").GetProperty("usage").GetProperty("output_tokens").GetInt64());
        Assert.DoesNotContain("[DONE]", raw, StringComparison.Ordinal);
        Assert.Equal((true, 3L), (host.Engine.Billing.Find("s1")!.Completed, host.Engine.Billing.Find("s1")!.CompletionTokens));
    }

    [Fact]
    public async Task Stream_RequiredFunctionTool_ArgumentDeltasThenDoneWithTheWholeArguments()
    {
        using var host = new SimulatorTestHost();
        var body = Request("call it");
        body["stream"] = true;
        body["tool_choice"] = "required";
        body["tools"] = JsonNode.Parse("""[{"type":"function","name":"f","parameters":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}}]""");

        using var response = await host.PostAsync("responses", body, "t1", HttpCompletionOption.ResponseHeadersRead);
        string raw = await response.Content.ReadAsStringAsync();

        var data = raw.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(b => JsonDocument.Parse(b.Split('\n')[1]["data: ".Length..]).RootElement).ToList();
        string deltas = string.Concat(data.Where(d => d.GetProperty("type").GetString() == "response.function_call_arguments.delta").Select(d => d.GetProperty("delta").GetString()));
        var done = data.Single(d => d.GetProperty("type").GetString() == "response.function_call_arguments.done");
        Assert.Equal(done.GetProperty("arguments").GetString(), deltas);
        Assert.Equal(JsonValueKind.Number, JsonDocument.Parse(deltas).RootElement.GetProperty("x").ValueKind);
        var item = data[^1].GetProperty("response").GetProperty("output")[0];
        Assert.Equal(("function_call", "f"), (item.GetProperty("type").GetString(), item.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Background_QueuedAtOnceHeldAtItsGateThenCompletedStoredAndBilled()
    {
        using var host = new SimulatorTestHost();
        var body = Request("[[sim:hold=bg]] [[sim:tokens=5]] later");
        body["background"] = true;

        var created = await host.PostJsonAsync("responses", body, "bg1");
        string id = created.GetProperty("id").GetString()!;

        Assert.Equal(("queued", true, JsonValueKind.Null), (created.GetProperty("status").GetString(), created.GetProperty("background").GetBoolean(),
            created.GetProperty("usage").ValueKind));
        Assert.Equal("queued", (await GetAsync(host, id)).GetProperty("status").GetString());
        Assert.Null(host.Engine.Billing.Find("bg1"));

        host.Engine.Barrier.Release("bg");
        var bill = await host.Engine.Billing.WaitForAsync("bg1", SimulatorTestHost.Timeout);
        var ended = await GetAsync(host, id);

        Assert.Equal(("completed", 5L, true), (ended.GetProperty("status").GetString(), bill.CompletionTokens, bill.Completed));
        Assert.Equal(5, ended.GetProperty("usage").GetProperty("output_tokens").GetInt64());
        Assert.Equal(bill.PromptTokens, ended.GetProperty("usage").GetProperty("input_tokens").GetInt64());
    }

    [Fact]
    public async Task Background_CancelledWhileHeld_EndsCancelledBilledItsPromptOnly()
    {
        using var host = new SimulatorTestHost();
        var body = Request("[[sim:hold=never]] [[sim:tokens=50]] stop");
        body["background"] = true;
        string id = (await host.PostJsonAsync("responses", body, "bg2")).GetProperty("id").GetString()!;

        using var cancel = await host.Client.PostAsync($"responses/{id}/cancel", null);
        using var cancelled = JsonDocument.Parse(await cancel.Content.ReadAsStringAsync());

        var bill = host.Engine.Billing.Find("bg2")!;
        Assert.Equal(("cancelled", 0L, false), (cancelled.RootElement.GetProperty("status").GetString(), bill.CompletionTokens, bill.Completed));
        var usage = cancelled.RootElement.GetProperty("usage");
        Assert.Equal((bill.PromptTokens, 0L), (usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64()));
        Assert.Equal("cancelled", (await GetAsync(host, id)).GetProperty("status").GetString());
        Assert.Single(host.Engine.Billing.All);
    }

    [Theory]
    [InlineData("stream")]
    [InlineData("store")]
    public async Task Background_StreamedOrUnstored_Refused400(string field)
    {
        using var host = new SimulatorTestHost();
        var body = Request("x");
        body["background"] = true;
        body[field] = field == "stream";

        using var response = await host.PostAsync("responses", body, "bg3");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(host.Engine.Billing.Find("bg3"));
    }

    private static async Task<JsonElement> GetAsync(SimulatorTestHost host, string id)
    {
        using var response = await host.Client.GetAsync($"responses/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task Stored_RetrieveCancelDelete_AndUnknownIs404()
    {
        using var host = new SimulatorTestHost();
        var created = await host.PostJsonAsync("responses", Request("[[sim:tokens=4]] keep"));
        string id = created.GetProperty("id").GetString()!;

        using var fetched = await host.Client.GetAsync($"responses/{id}");
        using var cancelled = await host.Client.PostAsync($"responses/{id}/cancel", null);
        using var deleted = await host.Client.DeleteAsync($"responses/{id}");
        using var gone = await host.Client.GetAsync($"responses/{id}");

        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        Assert.Equal(id, JsonDocument.Parse(await fetched.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.True(JsonDocument.Parse(await deleted.Content.ReadAsStringAsync()).RootElement.GetProperty("deleted").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Single(host.Engine.Billing.All);
    }

    [Fact]
    public async Task PreviousResponseId_ChainBilledAsInput_UnknownIs404_StoreFalseKeepsNothing()
    {
        using var host = new SimulatorTestHost();
        var first = await host.PostJsonAsync("responses", Request("[[sim:tokens=10]] begin"));
        var next = Request("[[sim:tokens=2]] more");
        next["previous_response_id"] = first.GetProperty("id").GetString();

        var second = await host.PostJsonAsync("responses", next);

        long chain = first.GetProperty("usage").GetProperty("input_tokens").GetInt64() + first.GetProperty("usage").GetProperty("output_tokens").GetInt64();
        Assert.Equal(chain + Count(next), second.GetProperty("usage").GetProperty("input_tokens").GetInt64());

        next["previous_response_id"] = "resp_unknown";
        using var unknown = await host.PostAsync("responses", next);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var unstored = Request("[[sim:tokens=2]] forget me");
        unstored["store"] = false;
        var transient = await host.PostJsonAsync("responses", unstored);
        using var lookup = await host.Client.GetAsync($"responses/{transient.GetProperty("id").GetString()}");
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    private static JsonObject Request(string text) => new()
    {
        ["model"] = "gpt-4o-mini",
        ["instructions"] = "Be terse.",
        ["input"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
    };

    private static long Count(JsonObject body)
    {
        using var document = JsonDocument.Parse(body.ToJsonString());
        return PromptTokenCounter.CountResponses(document.RootElement, TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase));
    }
}
