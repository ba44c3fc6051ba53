using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// The response cache on the real server: a repeated request is answered without an upstream call (counted by the
/// simulator's bills), a hit costs no tokens and shows the stored usage, and answers never cross tenants, answer-changing
/// fields, or the rules on what may be stored.
/// </summary>
public sealed class ResponseCacheTests : IAsyncLifetime
{
    internal const string Body = """{"model":"sim-mini","max_tokens":20,"messages":[{"role":"user","content":"Tell me about tides."}]}""";
    internal const string StreamBody = """{"model":"sim-mini","max_tokens":20,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Tell me about tides."}]}""";

    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c => EnableCache(c));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private int Bills => _gateway.Simulator.Billing.All.Count;

    [Fact]
    public async Task Plain_RepeatedRequest_HitWithStoredUsageNoTokensAndOneUpstreamCall()
    {
        string key = await _gateway.CreateKeyAsync();

        var miss = await SendAsync(_gateway, key, Body);
        var hit = await SendAsync(_gateway, key, Body);

        Assert.Equal((HttpStatusCode.OK, "miss"), (miss.Status, miss.Cache));
        Assert.Equal((HttpStatusCode.OK, "hit"), (hit.Status, hit.Cache));
        Assert.Equal(1, Bills);
        var bill = Assert.Single(_gateway.Simulator.Billing.All);
        using var document = JsonDocument.Parse(hit.Body);
        var usage = document.RootElement.GetProperty("usage");
        Assert.Equal((bill.PromptTokens, bill.CompletionTokens, 0L),
            (usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64(), usage.GetProperty("cost_nanousd").GetInt64()));
        Assert.Equal("0", hit.CostHeader);
        Assert.Equal(Content(miss.Body), Content(hit.Body));

        var missRecord = await _gateway.AuditAsync(miss.RequestId);
        var hitRecord = await _gateway.AuditAsync(hit.RequestId);
        Assert.Equal((AuditReasons.Ok, UsageSource.Reported), (missRecord.Reason, missRecord.UsageSource));
        Assert.True(missRecord.CostNanos > 0);
        Assert.Equal((Decisions.Allowed, AuditReasons.CacheHit, default(TokenUsage), 0L), (hitRecord.Decision, hitRecord.Reason, hitRecord.Usage, hitRecord.CostNanos));
        Assert.Equal((bill.PromptTokens, bill.CompletionTokens), (hitRecord.ReportedInputTokens, hitRecord.ReportedOutputTokens));
        Assert.Null(hitRecord.UpstreamStatus);
        Assert.Equal(200, hitRecord.Status);
    }

    [Fact]
    public async Task OfficialClient_PlainAndStreamingHits()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetChatClient("sim-mini");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 20 };
        ChatMessage[] messages = [new UserChatMessage("Tell me about tides.")];
        ids.Use();
        ChatCompletion miss = await client.CompleteChatAsync(messages, options);

        string plainId = ids.Use();
        var plain = await client.CompleteChatAsync(messages, options);
        string streamId = ids.Use();
        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.True(plain.GetRawResponse().Headers.TryGetValue("x-tollgate-cache", out string? header));
        Assert.Equal("hit", header);
        Assert.Equal(miss.Content[0].Text, plain.Value.Content[0].Text);
        Assert.Equal((miss.Usage.InputTokenCount, miss.Usage.OutputTokenCount), (plain.Value.Usage.InputTokenCount, plain.Value.Usage.OutputTokenCount));
        Assert.Equal(miss.Content[0].Text, text.ToString());
        Assert.Equal(miss.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal((miss.Usage.InputTokenCount, miss.Usage.OutputTokenCount), (usage!.InputTokenCount, usage.OutputTokenCount));
        Assert.Equal(1, Bills);
        Assert.Equal(AuditReasons.CacheHit, (await _gateway.AuditAsync(plainId)).Reason);
        Assert.Equal(AuditReasons.CacheHit, (await _gateway.AuditAsync(streamId)).Reason);
    }

    [Fact]
    public async Task OfficialClient_StreamedToolCallMiss_ServesTheSameCallToPlainAndStreamingHits()
    {
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync()).GetChatClient("sim-mini");
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather"), MaxOutputTokenCount = 200 };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "The forecast", BinaryData.FromString(
            """{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":5}},"required":["city","days"]}""")));
        ChatMessage[] messages = [new UserChatMessage("Stream the forecast.")];
        var (missId, missName, missArguments) = await StreamToolCallAsync(client, messages, options);

        ChatCompletion plain = await client.CompleteChatAsync(messages, options);
        var (hitId, hitName, hitArguments) = await StreamToolCallAsync(client, messages, options);

        Assert.Equal(1, Bills);
        var call = Assert.Single(plain.ToolCalls);
        Assert.Equal((missId, missName, missArguments), (call.Id, call.FunctionName, call.FunctionArguments.ToString()));
        Assert.Equal((missId, missName, missArguments), (hitId, hitName, hitArguments));
        Assert.Equal(ChatFinishReason.ToolCalls, plain.FinishReason);
        using var arguments = JsonDocument.Parse(missArguments);
        Assert.Equal(JsonValueKind.String, arguments.RootElement.GetProperty("city").ValueKind);
    }

    [Fact]
    public async Task KeyOrderAndWhitespace_DoNotMatter()
    {
        string key = await _gateway.CreateKeyAsync();
        await SendAsync(_gateway, key, Body);

        var hit = await SendAsync(_gateway, key, """
            { "messages" : [ { "content" : "Tell me about tides.", "role" : "user" } ],
              "max_tokens" : 20, "model" : "sim-mini" }
            """);

        Assert.Equal("hit", hit.Cache);
        Assert.Equal(1, Bills);
    }

    [Fact]
    public async Task StreamedMiss_ServesPlainAndStreamingHits()
    {
        string key = await _gateway.CreateKeyAsync();
        var miss = await SendAsync(_gateway, key, StreamBody);
        var bill = Assert.Single(_gateway.Simulator.Billing.All);

        var plain = await SendAsync(_gateway, key, Body);
        var stream = await SendAsync(_gateway, key, StreamBody);
        var noUsage = await SendAsync(_gateway, key, """{"model":"sim-mini","max_tokens":20,"stream":true,"messages":[{"role":"user","content":"Tell me about tides."}]}""");

        Assert.Equal(("miss", "hit", "hit", "hit"), (miss.Cache, plain.Cache, stream.Cache, noUsage.Cache));
        Assert.Equal(1, Bills);
        string text = StreamText(miss.Body);
        Assert.Equal(text, Content(plain.Body));
        Assert.Equal(text, StreamText(stream.Body));
        Assert.Equal(text, StreamText(noUsage.Body));
        using (var document = JsonDocument.Parse(plain.Body))
        {
            Assert.Equal("chat.completion", document.RootElement.GetProperty("object").GetString());
            string finish = StreamingTests.DataEvents(miss.Body).Where(e => e.Contains("\"finish_reason\":\"", StringComparison.Ordinal))
                .Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString()).Single()!;
            Assert.Equal(finish, document.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
            Assert.Equal(bill.CompletionTokens, document.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        }

        var events = StreamingTests.DataEvents(stream.Body);
        Assert.Equal("[DONE]", events[^1]);
        using (var usage = JsonDocument.Parse(events[^2]))
        {
            Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
            var counts = usage.RootElement.GetProperty("usage");
            Assert.Equal((bill.PromptTokens, bill.CompletionTokens, 0L),
                (counts.GetProperty("prompt_tokens").GetInt64(), counts.GetProperty("completion_tokens").GetInt64(), counts.GetProperty("cost_nanousd").GetInt64()));
        }

        Assert.DoesNotContain(StreamingTests.DataEvents(noUsage.Body), e => e.Contains("\"usage\"", StringComparison.Ordinal));
        Assert.True((await _gateway.AuditAsync(stream.RequestId)).Stream);
    }

    [Fact]
    public async Task PlainMiss_ServesAStreamingHitEndingInDone()
    {
        string key = await _gateway.CreateKeyAsync();
        var miss = await SendAsync(_gateway, key, Body);

        var hit = await SendAsync(_gateway, key, StreamBody);

        Assert.Equal("hit", hit.Cache);
        Assert.Equal("text/event-stream", hit.MediaType);
        Assert.Equal(Content(miss.Body), StreamText(hit.Body));
        Assert.Equal("[DONE]", StreamingTests.DataEvents(hit.Body)[^1]);
        Assert.Equal(1, Bills);
    }

    [Fact]
    public async Task OtherTenant_NeverGetsTheAnswer_OtherUserOfTheTenantDoes()
    {
        string acme = await _gateway.CreateKeyAsync(tenant: "acme", user: "alice");
        string acmeBob = await _gateway.CreateKeyAsync(tenant: "acme", user: "bob");
        string globex = await _gateway.CreateKeyAsync(tenant: "globex", user: "alice");
        await SendAsync(_gateway, acme, Body);

        var other = await SendAsync(_gateway, globex, Body);
        var colleague = await SendAsync(_gateway, acmeBob, Body);

        Assert.Equal(("miss", "hit"), (other.Cache, colleague.Cache));
        Assert.Equal(2, Bills);
        Assert.Equal("hit", (await SendAsync(_gateway, globex, Body)).Cache);
    }

    [Fact]
    public async Task AnswerChangingFields_NeverCollide()
    {
        string key = await _gateway.CreateKeyAsync();
        await SendAsync(_gateway, key, Body);
        string[] variants =
        [
            """{"model":"sim-mini","max_tokens":20,"messages":[{"role":"user","content":"Tell me about tides!"}]}""",
            """{"model":"sim-mini","max_tokens":21,"messages":[{"role":"user","content":"Tell me about tides."}]}""",
            """{"model":"sim-mini","max_tokens":20,"temperature":0.5,"messages":[{"role":"user","content":"Tell me about tides."}]}""",
            """{"model":"sim-mini","max_tokens":20,"seed":7,"messages":[{"role":"user","content":"Tell me about tides."}]}""",
            """{"model":"sim-mini","max_tokens":20,"n":2,"messages":[{"role":"user","content":"Tell me about tides."}]}""",
            """{"model":"sim-mini","max_tokens":20,"user":"end-user-2","messages":[{"role":"user","content":"Tell me about tides."}]}""",
            """{"model":"sim-mini","max_tokens":20,"response_format":{"type":"json_object"},"messages":[{"role":"user","content":"Tell me about tides."}]}""",
            """{"model":"sim-mini","max_tokens":20,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Tell me about tides."}]}""",
            """{"model":"sim-mini","max_tokens":20,"messages":[{"role":"user","content":"Tell me about tides.","name":"x"}]}""",
            """{"model":"sim-mini","max_tokens":20,"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"messages":[{"role":"user","content":"Tell me about tides."}]}""",
        ];

        foreach (string variant in variants)
        {
            Assert.Equal("miss", (await SendAsync(_gateway, key, variant)).Cache);
        }

        Assert.Equal(1 + variants.Length, Bills);
        foreach (string variant in variants)
        {
            Assert.Equal("hit", (await SendAsync(_gateway, key, variant)).Cache);
        }

        Assert.Equal(1 + variants.Length, Bills);
    }

    [Fact]
    public async Task AliasOfTheSameModel_SharesTheAnswer()
    {
        string key = await _gateway.CreateKeyAsync();
        await SendAsync(_gateway, key, Body);

        var hit = await SendAsync(_gateway, key, Body.Replace("\"sim-mini\"", "\"sim-mini-latest\"", StringComparison.Ordinal));

        Assert.Equal("hit", hit.Cache);
    }

    [Theory]
    [InlineData("[[sim:error]]", false, HttpStatusCode.BadGateway)]
    [InlineData("[[sim:garbage]]", false, HttpStatusCode.BadGateway)]
    [InlineData("[[sim:no_usage]]", false, HttpStatusCode.OK)]
    [InlineData("[[sim:no_usage]]", true, HttpStatusCode.OK)]
    [InlineData("[[sim:cut=3]]", true, HttpStatusCode.OK)]
    [InlineData("[[sim:cut=3]]", false, HttpStatusCode.BadGateway)]
    [InlineData("[[sim:tokens=400]] [[sim:ignore_max_tokens]]", false, HttpStatusCode.OK)]
    public async Task FailedCutOrUnbilledAnswers_AreNeverStored(string directives, bool stream, HttpStatusCode status)
    {
        string key = await _gateway.CreateKeyAsync();
        string body = $$"""{"model":"sim-mini","max_tokens":20,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Tides {{directives}}"}]}""";

        var first = await SendAsync(_gateway, key, body);
        var second = await SendAsync(_gateway, key, body);

        Assert.Equal((status, "miss"), (first.Status, first.Cache));
        Assert.Equal((status, "miss"), (second.Status, second.Cache));
        Assert.NotEqual(AuditReasons.CacheHit, (await _gateway.AuditAsync(second.RequestId)).Reason);
    }

    [Fact]
    public async Task WithFallbacks_AFallbacksAnswerIsNeverStored_TheModelsOwnIsAndHitsThroughResilience()
    {
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            EnableCache(c);
            c["Models"]!["sim-mini"]!["Fallbacks"] = new JsonArray("sim-large");
        });
        string key = await gateway.CreateKeyAsync();
        // The model's first call fails (once for the whole test), so the first request is answered by its fallback.
        const string Primary = """{"model":"sim-mini","max_tokens":20,"messages":[{"role":"user","content":"Tides [[sim:error]] [[sim:once=primary]]"}]}""";

        var byFallback = await SendAsync(gateway, key, Primary);
        var own = await SendAsync(gateway, key, Primary);
        var hit = await SendAsync(gateway, key, Primary);

        Assert.Equal((HttpStatusCode.OK, "miss", "sim-large"), (byFallback.Status, byFallback.Cache, byFallback.Headers.GetValueOrDefault("x-tollgate-fallback-model")));
        Assert.Equal((HttpStatusCode.OK, "miss", null), (own.Status, own.Cache, own.Headers.GetValueOrDefault("x-tollgate-fallback-model")));
        Assert.Equal((HttpStatusCode.OK, "hit"), (hit.Status, hit.Cache));
        Assert.Equal(Content(own.Body), Content(hit.Body));
        Assert.Equal(["sim-large", "sim-mini"], gateway.Simulator.Billing.All.Select(b => b.Model).Order());
        var record = await gateway.AuditAsync(hit.RequestId);
        Assert.Equal((AuditReasons.CacheHit, "sim-mini", 0L), (record.Reason, record.Model, record.CostNanos));
    }

    [Fact]
    public async Task RevokedKey_NeverGetsAHit()
    {
        var (id, secret) = await _gateway.CreateKeyWithIdAsync();
        string other = await _gateway.CreateKeyAsync();
        await SendAsync(_gateway, secret, Body);
        await _gateway.Keys.RevokeAsync(id, _gateway.Time.GetUtcNow(), CancellationToken.None);

        var revoked = await SendAsync(_gateway, secret, Body);

        Assert.Equal(HttpStatusCode.Unauthorized, revoked.Status);
        Assert.Null(revoked.Cache);
        Assert.Equal("hit", (await SendAsync(_gateway, other, Body)).Cache);
    }

    [Fact]
    public async Task ModelRemovedFromThePlan_NeverGetsAHit()
    {
        string key = await _gateway.CreateKeyAsync();
        Assert.Equal("miss", (await SendAsync(_gateway, key, Body)).Cache);
        Assert.Equal("hit", (await SendAsync(_gateway, key, Body)).Cache);

        await ReloadAsync(_gateway, c => c["Plans"]!["basic"]!["Models"] = new JsonArray("sim-large"));
        var refused = await SendAsync(_gateway, key, Body);

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Null(refused.Cache);
        Assert.Equal(1, Bills);
    }

    [Fact]
    public async Task NoStore_NeitherLooksUpNorStores_NoCache_SkipsTheLookupButStores()
    {
        string key = await _gateway.CreateKeyAsync();

        var noStore = await SendAsync(_gateway, key, Body, cacheControl: "no-store");
        var first = await SendAsync(_gateway, key, Body);
        var noCache = await SendAsync(_gateway, key, Body, cacheControl: "max-age=0, No-Cache");
        var hit = await SendAsync(_gateway, key, Body);
        var noStoreAfter = await SendAsync(_gateway, key, Body, cacheControl: "no-store");

        Assert.Equal((null, "miss", "miss", "hit", null), (noStore.Cache, first.Cache, noCache.Cache, hit.Cache, noStoreAfter.Cache));
        Assert.Equal(4, Bills);
    }

    [Fact]
    public async Task ProviderSideState_IsNeverCached()
    {
        string key = await _gateway.CreateKeyAsync();
        string[] bodies =
        [
            """{"model":"sim-mini","max_tokens":20,"store":true,"messages":[{"role":"user","content":"Tell me about tides."}]}""",
            """{"model":"sim-mini","max_tokens":20,"web_search_options":{},"messages":[{"role":"user","content":"Tell me about tides."}]}""",
        ];

        foreach (string body in bodies)
        {
            var first = await SendAsync(_gateway, key, body);
            var second = await SendAsync(_gateway, key, body);
            Assert.Equal((null, null), (first.Cache, second.Cache));
        }

        Assert.Equal(4, Bills);
    }

    [Fact]
    public async Task Limits_ApplyBeforeTheLookup_AHitCountsOneRequest()
    {
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            EnableCache(c);
            c["Plans"]!["basic"]!["RequestsPerMinute"] = 2;
        });
        string key = await gateway.CreateKeyAsync();

        var miss = await SendAsync(gateway, key, Body);
        var hit = await SendAsync(gateway, key, Body);
        var third = await SendAsync(gateway, key, Body);

        Assert.Equal(("miss", "hit"), (miss.Cache, hit.Cache));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.Status);
        Assert.Null(third.Cache);
        Assert.Equal("rate_limit_exceeded", (await gateway.AuditAsync(third.RequestId)).Reason);
    }

    [Fact]
    public async Task HitPricePercent_ChargesThatShareOfThePriceExactlyAndNoTokens()
    {
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            EnableCache(c);
            c["Plans"]!["basic"]!["CacheHitPricePercent"] = 30;
            c["Plans"]!["basic"]!["TokensPerMinute"] = 1000;
        });
        string key = await gateway.CreateKeyAsync();
        var miss = await SendAsync(gateway, key, Body);
        var bill = Assert.Single(gateway.Simulator.Billing.All);

        var hit = await SendAsync(gateway, key, Body);

        // sim-mini: $0.15 in, $0.60 out per million = 150,000 and 600,000 pico-dollars per token; 30 %, rounded up once.
        long picos = bill.PromptTokens * 150_000 + bill.CompletionTokens * 600_000;
        long expected = (picos * 30 + 99_999) / 100_000;
        var record = await gateway.AuditAsync(hit.RequestId);
        Assert.Equal((AuditReasons.CacheHit, expected, default(TokenUsage)), (record.Reason, record.CostNanos, record.Usage));
        Assert.Equal(Money.FormatDollars(expected), hit.CostHeader);
        using var document = JsonDocument.Parse(hit.Body);
        Assert.Equal(expected, document.RootElement.GetProperty("usage").GetProperty("cost_nanousd").GetInt64());
        Assert.True((await gateway.AuditAsync(miss.RequestId)).CostNanos > expected);

        // The hit took none of the 1,000 tokens a minute: after it, a third request finds the miss's tokens counted
        // and its own reservation (input + the 20 output tokens it may produce), nothing more.
        var third = await SendAsync(gateway, key, Body);
        long remaining = long.Parse(third.Headers["x-ratelimit-remaining-tokens"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(1000 - (bill.PromptTokens + bill.CompletionTokens) - (bill.PromptTokens + 20), remaining);
    }

    [Fact]
    public async Task CacheSection_BoundsTheStore_AndAReloadAppliesToTheNextStoredAnswer()
    {
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            EnableCache(c);
            c["Cache"] = new JsonObject { ["MaxEntries"] = 2, ["Ttl"] = "00:10:00" };
        });
        string key = await gateway.CreateKeyAsync();
        string[] bodies = [.. Enumerable.Range(0, 3).Select(i => Body.Replace("tides.", $"tides {i}.", StringComparison.Ordinal))];
        foreach (string body in bodies)
        {
            await SendAsync(gateway, key, body);
        }

        // Two entries at most: the first answer was evicted, the last two are served.
        Assert.Equal(("hit", "hit"), ((await SendAsync(gateway, key, bodies[2])).Cache, (await SendAsync(gateway, key, bodies[1])).Cache));
        Assert.Equal("miss", (await SendAsync(gateway, key, bodies[0])).Cache);

        await ReloadAsync(gateway, c => c["Cache"]!["MaxEntries"] = 1);
        await SendAsync(gateway, key, Body);

        Assert.Equal(("hit", "miss"), ((await SendAsync(gateway, key, Body)).Cache, (await SendAsync(gateway, key, bodies[0])).Cache));
    }

    [Fact]
    public async Task CacheOff_ByDefault_NoHeaderAndEveryRequestGoesUpstream()
    {
        await using var gateway = await TestGateway.StartAsync();
        string key = await gateway.CreateKeyAsync();

        var first = await SendAsync(gateway, key, Body);
        var second = await SendAsync(gateway, key, Body);

        Assert.Equal((null, null), (first.Cache, second.Cache));
        Assert.Equal(2, gateway.Simulator.Billing.All.Count);
    }

    [Fact]
    public async Task PlanWithoutTheCache_DoesNotUseIt()
    {
        string premium = await _gateway.CreateKeyAsync(plan: "premium");
        string basic = await _gateway.CreateKeyAsync(plan: "basic");
        await SendAsync(_gateway, basic, Body);

        var first = await SendAsync(_gateway, premium, Body);

        Assert.Null(first.Cache);
        Assert.Equal(2, Bills);
    }

    [Fact]
    public async Task AnthropicMessagesAndOpenAIResponses_AreNotCachedYet_NoHeaderAndEveryRequestGoesUpstream()
    {
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            EnableCache(c);
            c["Models"]!["sim-claude"]!["CacheResponses"] = true;
        });
        string key = await gateway.CreateKeyAsync();

        for (int i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
            {
                Content = new StringContent("""{"model":"sim-claude","max_tokens":32,"messages":[{"role":"user","content":"Tell me about tides."}]}""",
                    System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("x-api-key", key);
            request.Headers.Add("anthropic-version", "2023-06-01");
            using var response = await gateway.Http.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("x-tollgate-cache"));
        }

        // OpenAI's Responses API, even with store: false (no provider-side state), is not cached either.
        for (int i = 0; i < 2; i++)
        {
            var answer = await SendAsync(gateway, key, """{"model":"sim-mini","input":"Tell me about tides.","store":false,"max_output_tokens":32}""", "/v1/responses");

            Assert.Equal((HttpStatusCode.OK, null), (answer.Status, answer.Cache));
        }

        Assert.Equal(4, gateway.Simulator.Billing.All.Count);
        Assert.Equal(0, gateway.App.Services.GetRequiredService<Caching.ResponseFlights>().Count);
    }

    [Fact]
    public async Task Embeddings_AndLegacyCompletions_AreCachedToo()
    {
        string key = await _gateway.CreateKeyAsync();
        const string Embedding = """{"model":"sim-embed","input":["tides","moons"]}""";
        const string Completion = """{"model":"sim-mini","max_tokens":10,"prompt":"Tides are"}""";
        const string CompletionStream = """{"model":"sim-mini","max_tokens":10,"prompt":"Tides are","stream":true}""";

        var embedMiss = await SendAsync(_gateway, key, Embedding, "/v1/embeddings");
        var embedHit = await SendAsync(_gateway, key, Embedding, "/v1/embeddings");
        var completionMiss = await SendAsync(_gateway, key, CompletionStream, "/v1/completions");
        var completionHit = await SendAsync(_gateway, key, Completion, "/v1/completions");
        var completionStreamHit = await SendAsync(_gateway, key, CompletionStream, "/v1/completions");

        Assert.Equal(("miss", "hit"), (embedMiss.Cache, embedHit.Cache));
        Assert.Equal(("miss", "hit", "hit"), (completionMiss.Cache, completionHit.Cache, completionStreamHit.Cache));
        Assert.Equal(2, Bills);
        using (var a = JsonDocument.Parse(embedMiss.Body))
        using (var b = JsonDocument.Parse(embedHit.Body))
        {
            Assert.Equal(a.RootElement.GetProperty("data").GetRawText(), b.RootElement.GetProperty("data").GetRawText());
        }

        string text = CompletionText(completionMiss.Body);
        using (var plain = JsonDocument.Parse(completionHit.Body))
        {
            Assert.Equal(text, plain.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }

        Assert.Equal(text, CompletionText(completionStreamHit.Body));
    }

    private static async Task<(string Id, string Name, string Arguments)> StreamToolCallAsync(ChatClient client, ChatMessage[] messages, ChatCompletionOptions options)
    {
        string? id = null, name = null;
        var arguments = new System.Text.StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var tool in update.ToolCallUpdates)
            {
                id ??= tool.ToolCallId;
                name ??= tool.FunctionName;
                arguments.Append(tool.FunctionArgumentsUpdate?.ToString());
            }
        }

        return (id!, name!, arguments.ToString());
    }

    internal static void EnableCache(JsonObject tollgate, string plan = "basic", string? scope = null)
    {
        tollgate["Plans"]![plan]!["CacheResponses"] = true;
        if (scope is not null)
        {
            tollgate["Plans"]![plan]!["CacheNamespace"] = scope;
        }

        foreach (string model in new[] { "sim-mini", "sim-large", "sim-embed" })
        {
            tollgate["Models"]![model]!["CacheResponses"] = true;
        }
    }

    internal static async Task<Answer> SendAsync(TestGateway gateway, string key, string body, string path = "/v1/chat/completions", string? cacheControl = null)
    {
        using var request = ChatCompletionTests.Json(key, body, path);
        if (cacheControl is not null)
        {
            request.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        }

        using var response = await gateway.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        var headers = response.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        return new Answer(response.StatusCode, headers.GetValueOrDefault("x-tollgate-cache"), text, headers["x-request-id"],
            headers.GetValueOrDefault("x-tollgate-cost-usd"), response.Content.Headers.ContentType?.MediaType, headers);
    }

    internal static async Task ReloadAsync(TestGateway gateway, Action<JsonObject> change)
    {
        var root = JsonNode.Parse(await File.ReadAllTextAsync(gateway.ConfigPath))!;
        change(root["Tollgate"]!.AsObject());
        await File.WriteAllTextAsync(gateway.ConfigPath, root.ToJsonString());
        // Reload now rather than wait for the file watcher (which reloads the same file again later).
        var configuration = (Microsoft.Extensions.Configuration.IConfigurationRoot)gateway.App.Services.GetService(typeof(Microsoft.Extensions.Configuration.IConfiguration))!;
        configuration.Reload();
    }

    internal static string Content(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }

    internal static string StreamText(string body)
    {
        var text = new System.Text.StringBuilder();
        foreach (string data in StreamingTests.DataEvents(body))
        {
            if (data == "[DONE]")
            {
                continue;
            }

            using var chunk = JsonDocument.Parse(data);
            foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    text.Append(content.GetString());
                }
            }
        }

        return text.ToString();
    }

    private static string CompletionText(string streamBody)
    {
        var text = new System.Text.StringBuilder();
        foreach (string data in StreamingTests.DataEvents(streamBody))
        {
            if (data != "[DONE]")
            {
                using var chunk = JsonDocument.Parse(data);
                foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
                {
                    text.Append(choice.GetProperty("text").GetString());
                }
            }
        }

        return text.ToString();
    }

    internal sealed record Answer(HttpStatusCode Status, string? Cache, string Body, string RequestId, string? CostHeader, string? MediaType,
        Dictionary<string, string> Headers);
}
