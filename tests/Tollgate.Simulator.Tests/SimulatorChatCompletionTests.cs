using System.Net;
using System.Text.Json;
using Tollgate.Tokenization;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorChatCompletionTests
{
    [Fact]
    public async Task ChatCompletion_SamePromptOnTwoEngines_SameReply()
    {
        using var first = new SimulatorTestHost();
        using var second = new SimulatorTestHost();

        var a = await first.PostJsonAsync("chat/completions", SimulatorTestHost.Chat("Tell me about the sea."));
        var b = await second.PostJsonAsync("chat/completions", SimulatorTestHost.Chat("Tell me about the sea."));

        Assert.Equal(Content(a), Content(b));
        Assert.Equal(a.GetProperty("usage").GetRawText(), b.GetProperty("usage").GetRawText());
    }

    [Fact]
    public async Task ChatCompletion_DifferentPrompts_DifferentReplies()
    {
        using var host = new SimulatorTestHost();
        var replies = new HashSet<string>(StringComparer.Ordinal);

        for (int i = 0; i < 10; i++)
        {
            replies.Add(Content(await host.PostJsonAsync("chat/completions", SimulatorTestHost.Chat($"Question {i}"))));
        }

        Assert.Equal(10, replies.Count);
    }

    [Theory]
    [InlineData(TokenEncoding.O200kBase)]
    [InlineData(TokenEncoding.Cl100kBase)]
    public async Task ChatCompletion_Usage_IsExactInTheModelsEncoding(string encoding)
    {
        using var host = new SimulatorTestHost(encodingForModel: model => model == "m" ? encoding : null);
        var body = SimulatorTestHost.Chat("Count me precisely, please: naïve café — 数字 🎉", model: "m");

        var reply = await host.PostJsonAsync("chat/completions", body);

        var usage = reply.GetProperty("usage");
        long completion = usage.GetProperty("completion_tokens").GetInt64();
        Assert.Equal(SimulatorTestHost.CountChat(body, encoding), usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(SimulatorTestHost.CountText(Content(reply), encoding), completion);
        Assert.InRange(completion, 8, 40);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt64() + completion, usage.GetProperty("total_tokens").GetInt64());
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.Equal(0, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt64());
    }

    [Fact]
    public async Task ChatCompletion_Response_HasTheOpenAIShape()
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostAsync("chat/completions", SimulatorTestHost.Chat("Shape"), clientRequestId: "gw-1");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var reply = document.RootElement;

        string requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        Assert.StartsWith("req_sim_", requestId, StringComparison.Ordinal);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("chatcmpl-sim", reply.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chat.completion", reply.GetProperty("object").GetString());
        Assert.Equal(host.Time.GetUtcNow().ToUnixTimeSeconds(), reply.GetProperty("created").GetInt64());
        Assert.Equal("gpt-4o-mini", reply.GetProperty("model").GetString());
        var choice = Assert.Single(reply.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var bill = host.Engine.Billing.Find("gw-1");
        Assert.NotNull(bill);
        Assert.Equal(requestId, bill.UpstreamRequestId);
    }

    [Theory]
    [InlineData("max_tokens")]
    [InlineData("max_completion_tokens")]
    public async Task ChatCompletion_CapBelowPlannedLength_StopsAtCapWithLength(string field)
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat("[[sim:tokens=20]] go on");
        body[field] = 5;

        var reply = await host.PostJsonAsync("chat/completions", body);

        Assert.Equal(5, reply.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.Equal(5, SimulatorTestHost.CountText(Content(reply)));
        Assert.Equal("length", reply.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task ChatCompletion_CapAbovePlannedLength_StopsNaturally()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat("[[sim:tokens=20]] go on");
        body["max_tokens"] = 20;

        var reply = await host.PostJsonAsync("chat/completions", body);

        Assert.Equal(20, reply.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.Equal("stop", reply.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(77)]
    public async Task ChatCompletion_TokensDirective_ExactLength(int tokens)
    {
        using var host = new SimulatorTestHost();

        var reply = await host.PostJsonAsync("chat/completions", SimulatorTestHost.Chat($"[[sim:tokens={tokens}]]"));

        Assert.Equal(tokens, reply.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.Equal(tokens, SimulatorTestHost.CountText(Content(reply)));
    }

    [Fact]
    public async Task ChatCompletion_ThreeChoices_UsageSumsTheChoices()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat("[[sim:tokens=6]] several");
        body["n"] = 3;

        var reply = await host.PostJsonAsync("chat/completions", body);

        var choices = reply.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], choices.Select(choice => choice.GetProperty("index").GetInt32()));
        Assert.All(choices, choice => Assert.Equal(6, SimulatorTestHost.CountText(choice.GetProperty("message").GetProperty("content").GetString()!)));
        Assert.Equal(18, reply.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
    }

    [Fact]
    public async Task ChatCompletion_CachedAndReasoning_ReportedInDetailsAndBilled()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat("[[sim:tokens=10]] [[sim:cached=4]] [[sim:reasoning=7]]");

        var reply = await host.PostJsonAsync("chat/completions", body, clientRequestId: "r");

        var usage = reply.GetProperty("usage");
        Assert.Equal(10, SimulatorTestHost.CountText(Content(reply)));
        Assert.Equal(17, usage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(4, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.Equal(7, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt64());
        var bill = host.Engine.Billing.Find("r")!;
        Assert.Equal((4L, 17L, 7L), (bill.CachedTokens, bill.CompletionTokens, bill.ReasoningTokens));
    }

    [Fact]
    public async Task ChatCompletion_ReasoningUnderCap_CapBoundsReasoningAndContentTogether()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Chat("[[sim:tokens=10]] [[sim:reasoning=7]]");
        body["max_completion_tokens"] = 12;

        var reply = await host.PostJsonAsync("chat/completions", body);

        Assert.Equal(12, reply.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.Equal(5, SimulatorTestHost.CountText(Content(reply)));
        Assert.Equal("length", reply.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task LegacyCompletion_Prompt_TextCompletionShapeAndCountPrompt()
    {
        using var host = new SimulatorTestHost();
        var body = SimulatorTestHost.Completion("Once upon a time");

        var reply = await host.PostJsonAsync("completions", body);

        Assert.StartsWith("cmpl-sim", reply.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("text_completion", reply.GetProperty("object").GetString());
        string text = reply.GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.Equal(SimulatorTestHost.CountText("Once upon a time"), reply.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(SimulatorTestHost.CountText(text), reply.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
    }

    [Theory]
    [InlineData("chat/completions", "{not json")]
    [InlineData("chat/completions", "[1,2]")]
    [InlineData("chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("chat/completions", """{"model":"m"}""")]
    [InlineData("chat/completions", """{"model":"m","messages":[]}""")]
    [InlineData("chat/completions", """{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":0}""")]
    [InlineData("chat/completions", """{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""")]
    [InlineData("chat/completions", """{"model":"m","messages":[{"role":"user","content":"[[sim:nonsense]]"}]}""")]
    [InlineData("completions", """{"model":"m"}""")]
    [InlineData("embeddings", """{"model":"m","input":[]}""")]
    public async Task Post_BadRequest_Returns400OpenAIErrorAndNoBill(string path, string body)
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostRawAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("req_sim_", Assert.Single(response.Headers.GetValues("x-request-id")), StringComparison.Ordinal);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", document.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Empty(host.Engine.Billing.All);
    }

    [Fact]
    public async Task Send_UnknownRoute_Returns404()
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostRawAsync("audio/speech", "{}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("unknown_url", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetModels_Always_ListsTheSimulator()
    {
        using var host = new SimulatorTestHost();

        using var document = JsonDocument.Parse(await host.Client.GetStringAsync("models"));

        Assert.Equal("list", document.RootElement.GetProperty("object").GetString());
        Assert.Equal("model", document.RootElement.GetProperty("data")[0].GetProperty("object").GetString());
    }

    private static string Content(JsonElement reply) =>
        reply.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
}
