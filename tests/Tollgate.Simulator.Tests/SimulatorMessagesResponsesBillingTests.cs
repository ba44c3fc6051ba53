using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.Simulator.Tests;

/// <summary>
/// The bills of Anthropic Messages and Responses API calls, plain and streamed: they equal the usage the reply
/// reported; <c>error</c> and <c>garbage</c> are answered in the endpoint's own shape and billed nothing; and
/// <c>failed</c> ends a response <c>failed</c> with the usage it is billed.
/// </summary>
public sealed class SimulatorMessagesResponsesBillingTests
{
    public static TheoryData<string, string, bool> Requests => new()
    {
        { "messages", """{"model":"m","max_tokens":50,"messages":[{"role":"user","content":"plain [[sim:cached=2]] [[sim:cache_write=3]]"}]}""", false },
        { "messages", """{"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"streamed [[sim:reasoning=4]]"}]}""", true },
        { "responses", """{"model":"m","input":"plain [[sim:cached=2]] [[sim:reasoning=3]]"}""", false },
        { "responses", """{"model":"m","input":"streamed","stream":true}""", true },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Bill_MessagesOrResponses_MatchesTheReportedUsage(string path, string body, bool stream)
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostRawAsync(path, body, "bill-me");
        string text = await response.Content.ReadAsStringAsync();

        JsonNode usage = stream ? LastUsage(text) : JsonNode.Parse(text)!["usage"]!;
        var bill = host.Engine.Billing.Find("bill-me")!;
        Assert.Equal(Assert.Single(response.Headers.GetValues("x-request-id")), bill.UpstreamRequestId);
        Assert.Equal((path, "m", stream, true, (string?)null), (bill.Endpoint, bill.Model, bill.Stream, bill.Completed, bill.Fault));
        if (path == "messages")
        {
            long cacheRead = usage["cache_read_input_tokens"]!.GetValue<long>(), cacheWrite = usage["cache_creation_input_tokens"]!.GetValue<long>();
            Assert.Equal(usage["input_tokens"]!.GetValue<long>() + cacheRead + cacheWrite, bill.PromptTokens);
            Assert.Equal((cacheRead, cacheWrite), (bill.CachedTokens, bill.CacheWrite5mTokens));
            Assert.Equal(usage["output_tokens"]!.GetValue<long>(), bill.CompletionTokens);
        }
        else
        {
            Assert.Equal(usage["input_tokens"]!.GetValue<long>(), bill.PromptTokens);
            Assert.Equal(usage["input_tokens_details"]!["cached_tokens"]!.GetValue<long>(), bill.CachedTokens);
            Assert.Equal(usage["output_tokens"]!.GetValue<long>(), bill.CompletionTokens);
            Assert.Equal(usage["output_tokens_details"]!["reasoning_tokens"]!.GetValue<long>(), bill.ReasoningTokens);
        }

        Assert.Single(host.Engine.Billing.All);
    }

    [Theory]
    [InlineData("messages", false)]
    [InlineData("messages", true)]
    [InlineData("responses", false)]
    [InlineData("responses", true)]
    public async Task Error_MessagesOrResponses_500InTheEndpointsShapeAndNothingBilled(string path, bool stream)
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostRawAsync(path, Body(path, "[[sim:error]] hello", stream), "e1");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (path == "messages")
        {
            Assert.Equal("error", document.RootElement.GetProperty("type").GetString());
            Assert.Equal("api_error", document.RootElement.GetProperty("error").GetProperty("type").GetString());
        }
        else
        {
            Assert.Equal("server_error", document.RootElement.GetProperty("error").GetProperty("type").GetString());
        }

        Assert.Empty(host.Engine.Billing.All);
    }

    [Theory]
    [InlineData("messages", false)]
    [InlineData("messages", true)]
    [InlineData("responses", false)]
    [InlineData("responses", true)]
    public async Task Garbage_MessagesOrResponses_200JsonThatIsNotJsonAndNothingBilled(string path, bool stream)
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostRawAsync(path, Body(path, "[[sim:garbage]] hello", stream), "g1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("<html>502 Bad Gateway (simulated garbage, not JSON)", await response.Content.ReadAsStringAsync());
        Assert.Empty(host.Engine.Billing.All);
    }

    [Fact]
    public async Task Failed_Response_StatusFailedWithItsErrorAndTheBilledUsage()
    {
        using var host = new SimulatorTestHost();

        var response = await host.PostJsonAsync("responses", JsonNode.Parse("""{"model":"m","input":"[[sim:failed]] [[sim:tokens=6]] go"}""")!.AsObject(), "f1");

        Assert.Equal("failed", response.GetProperty("status").GetString());
        Assert.Equal("server_error", response.GetProperty("error").GetProperty("code").GetString());
        var bill = host.Engine.Billing.Find("f1")!;
        var usage = response.GetProperty("usage");
        Assert.Equal((6L, bill.PromptTokens, bill.CompletionTokens), (bill.CompletionTokens, usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64()));
    }

    [Fact]
    public async Task Failed_ResponseStream_FinalEventResponseFailedWithTheBilledUsage()
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostRawAsync("responses", """{"model":"m","input":"[[sim:failed]] [[sim:tokens=5]] go","stream":true}""", "f2");
        string text = await response.Content.ReadAsStringAsync();

        string[] events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("event: response.failed\n", events[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("response.completed", text, StringComparison.Ordinal);
        var final = JsonNode.Parse(events[^1].Split('\n')[1]["data: ".Length..])!["response"]!;
        Assert.Equal(("failed", "server_error"), (final["status"]!.GetValue<string>(), final["error"]!["code"]!.GetValue<string>()));
        var bill = host.Engine.Billing.Find("f2")!;
        Assert.Equal((5L, bill.PromptTokens, bill.CompletionTokens), (bill.CompletionTokens, final["usage"]!["input_tokens"]!.GetValue<long>(), final["usage"]!["output_tokens"]!.GetValue<long>()));
    }

    private static string Body(string path, string prompt, bool stream)
    {
        var body = path == "messages"
            ? new JsonObject { ["model"] = "m", ["max_tokens"] = 50, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) }
            : new JsonObject { ["model"] = "m", ["input"] = prompt };
        if (stream)
        {
            body["stream"] = true;
        }

        return body.ToJsonString();
    }

    // The usage a stream reported: Messages' message_start usage updated by message_delta's, or the Responses' final event's.
    private static JsonObject LastUsage(string text)
    {
        var usage = new JsonObject();
        foreach (string block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? data = block.Split('\n').FirstOrDefault(l => l.StartsWith("data: ", StringComparison.Ordinal))?["data: ".Length..];
            var node = data is null ? null : JsonNode.Parse(data)!;
            if ((node?["usage"] ?? node?["response"]?["usage"] ?? node?["message"]?["usage"]) is JsonObject found)
            {
                foreach (var (name, value) in found)
                {
                    usage[name] = value?.DeepClone();
                }
            }
        }

        return usage;
    }
}
