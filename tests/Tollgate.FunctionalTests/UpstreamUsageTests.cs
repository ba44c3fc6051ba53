using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;
using Tollgate.Tokenization;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Usage the upstream reports is billed only when it can be true: malformed usage is estimated from the text (never
/// zero for output that arrived); usage above what the request can produce is clamped, flagged and logged; absurd
/// figures never wrap a budget or a report.
/// </summary>
public sealed class UpstreamUsageTests : IAsyncLifetime
{
    private const string Answer = "The quick brown fox jumps over the lazy dog, twice over and once more.";
    private ScriptedUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ScriptedUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(_upstream.Configure);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    public static TheoryData<string> MalformedUsage() =>
    [
        "{}",
        """{"prompt_tokens":"12","completion_tokens":"15","total_tokens":"27"}""",
        """{"prompt_tokens":-5,"completion_tokens":-7,"total_tokens":-12}""",
        """{"prompt_tokens":12,"completion_tokens":0,"total_tokens":12}""",
        """{"prompt_tokens":12.5,"completion_tokens":15.5}""",
        """{"prompt_tokens":12,"completion_tokens":15,"prompt_tokens_details":{"cached_tokens":13}}""",
        """{"prompt_tokens":12,"completion_tokens":15,"completion_tokens_details":{"reasoning_tokens":16}}""",
        """{"prompt_tokens":12}""",
        """{"prompt_tokens":1e3,"completion_tokens":2e3}""",
        "\"lots\"",
        "[1,2]",
    ];

    [Theory]
    [MemberData(nameof(MalformedUsage))]
    public async Task Plain_MalformedUsage_IsEstimatedFromTheTextNeverZero(string usage)
    {
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteCompletionAsync(http, Answer, usage);
        var record = await PostAsync(stream: false);

        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal(Count(Answer), record.Usage.OutputTokens);
        Assert.True(record.Usage.InputTokens > 0);
        Assert.Equal(ModelPrice().CostNanos(record.Usage), record.CostNanos);
        Assert.Null(record.ReportedOutputTokens);
    }

    [Theory]
    [MemberData(nameof(MalformedUsage))]
    public async Task Stream_MalformedUsageChunk_IsEstimatedAndTheCallerGetsTheEstimate(string usage)
    {
        string[] pieces = Answer.Split(' ').Select((w, i) => i == 0 ? w : " " + w).ToArray();
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteStreamAsync(http, pieces, usage);
        var (record, body) = await PostStreamAsync(includeUsage: true);

        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal("ok", record.Reason);
        Assert.Equal(Count(Answer), record.Usage.OutputTokens);
        var usageEvents = StreamingTests.DataEvents(body).Where(e => e.Contains("\"usage\"", StringComparison.Ordinal)).ToList();
        var estimate = JsonNode.Parse(Assert.Single(usageEvents))!["usage"]!;
        Assert.True(estimate["estimated"]!.GetValue<bool>());
        Assert.Equal(record.Usage.OutputTokens, estimate["completion_tokens"]!.GetValue<long>());
        Assert.Equal(record.CostNanos, estimate["cost_nanousd"]!.GetValue<long>());
    }

    [Fact]
    public async Task Plain_WellFormedUsage_IsBilledAsReportedWithBothFiguresKept()
    {
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteCompletionAsync(http, Answer,
            """{"prompt_tokens":21,"completion_tokens":17,"total_tokens":38,"prompt_tokens_details":{"cached_tokens":null}}""");
        var record = await PostAsync(stream: false);

        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(new TokenUsage(21, 0, 17, 0), record.Usage);
        Assert.Equal(21, record.ReportedInputTokens);
        Assert.Equal(17, record.ReportedOutputTokens);
        Assert.False(record.UsageClamped);
        Assert.Null(record.BillingRule);
    }

    [Fact]
    public async Task Plain_UsageAboveWhatTheRequestCanProduce_IsClampedFlaggedCountedAndLogged()
    {
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteCompletionAsync(http, Answer,
            """{"prompt_tokens":9000000000000000000,"completion_tokens":9000000000000000000,"total_tokens":1}""");
        var record = await PostAsync(stream: false);

        // Context window 32,000; maximum output 4,096 × one choice.
        Assert.Equal(new TokenUsage(32_000, 0, 4_096, 0), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.True(record.UsageClamped);
        Assert.True(record.Overshoot);
        Assert.Equal(9_000_000_000_000_000_000, record.ReportedInputTokens);
        Assert.Equal(9_000_000_000_000_000_000, record.ReportedOutputTokens);
        Assert.Equal(ModelPrice().CostNanos(record.Usage), record.CostNanos);
        Assert.Contains(_gateway.Logs.Lines, m => m.Contains("more than the request can produce", StringComparison.Ordinal));

        using var metrics = new HttpClient();
        string text = await metrics.GetStringAsync(new Uri(_gateway.MetricsAddress!, "/metrics"));
        Assert.Contains("tollgate_output_overshoot_total{model=\"scripted-exact\"} 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_OverrunBelowTheBound_IsBilledAsReportedAndFlagged()
    {
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteCompletionAsync(http, Answer,
            """{"prompt_tokens":20,"completion_tokens":3000,"total_tokens":3020}""");
        var record = await PostAsync(stream: false, maxTokens: 50);

        Assert.Equal(new TokenUsage(20, 0, 3000, 0), record.Usage);
        Assert.False(record.UsageClamped);
        Assert.True(record.Overshoot);
    }

    [Fact]
    public async Task AbsurdUsage_ThreeConcurrentResponses_NeverWrapTheBudgetOrTheReport()
    {
        var (_, key) = await _gateway.CreateKeyWithLimitsAsync("basic", new Dictionary<string, string> { ["BudgetPerDay"] = "1" });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int arrived = 0;
        _upstream.Respond = async (http, _) =>
        {
            if (Interlocked.Increment(ref arrived) <= 3)
            {
                if (Volatile.Read(ref arrived) == 3)
                {
                    release.TrySetResult();
                }

                await release.Task;
            }

            await ScriptedUpstream.WriteCompletionAsync(http, Answer,
                """{"prompt_tokens":3,"completion_tokens":9223372036854775000,"total_tokens":9223372036854775003}""");
        };

        const string Body = """{"model":"scripted-exact","max_tokens":100,"messages":[{"role":"user","content":"absurd"}]}""";
        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        var records = (await _gateway.AuditRecordsAsync()).Where(r => r.Decision == Decisions.Allowed).ToList();
        Assert.Equal(3, records.Count);
        long each = ModelPrice().CostNanos(new TokenUsage(3, 0, 4_096, 0));
        Assert.All(records, r => Assert.Equal(each, r.CostNanos));

        // The fourth request sees the true remaining budget (not a wrapped-around one), and is admitted.
        using var fourth = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, Body));
        Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
        decimal remaining = decimal.Parse(fourth.Headers.GetValues("x-tollgate-budget-remaining-usd").Single(), CultureInfo.InvariantCulture);
        Assert.InRange(remaining, 0.9m, 1m - (3 * each / 1_000_000_000m));

        await _gateway.App.Ledger.FlushAsync();
        var usage = await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<ILedgerStore>(_gateway.App.Services)
            .QueryUsageAsync(new UsageQuery(), CancellationToken.None);
        Assert.Equal(4 * each, usage.Where(u => u.Model == "scripted-exact").Sum(u => u.CostNanos));
    }

    private static ModelPrice ModelPrice() => new(1_000_000, 1_000_000, 2_000_000);

    private static long Count(string text) => TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase).CountBounded(text);

    private async Task<AuditRecord> PostAsync(bool stream, int maxTokens = 200)
    {
        string key = await _gateway.CreateKeyAsync();
        string body = $$"""{"model":"scripted-exact","max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say something."}]}""";
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body));
        _ = await response.Content.ReadAsStringAsync();
        return await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single());
    }

    private async Task<(AuditRecord Record, string Body)> PostStreamAsync(bool includeUsage)
    {
        string key = await _gateway.CreateKeyAsync();
        string body = $$"""{"model":"scripted-exact","max_tokens":200,"stream":true,"stream_options":{"include_usage":{{(includeUsage ? "true" : "false")}}},"messages":[{"role":"user","content":"Say something."}]}""";
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string text = await response.Content.ReadAsStringAsync();
        return (await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single()), text);
    }
}
