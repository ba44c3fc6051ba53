using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Limits;

namespace Tollgate.FunctionalTests;

/// <summary>
/// What the official .NET SDK does with each kind of refusal, its own retries on: a refusal whose capacity returns
/// within a minute is retried after at most 60 s; any other refusal says so (<c>x-should-retry: false</c>, no
/// <c>Retry-After</c>), so even an SDK that ignores that header retries only its default count, at its default
/// pace; every 429 carries the caller's <c>x-ratelimit-*</c> headers; and no refused attempt consumes anything.
/// </summary>
public sealed class RefusalRetryTests : IAsyncLifetime
{
    private const string Prompt = "retry me [[sim:tokens=10]]";

    // Output exactly max_tokens, so a request costs its worst case and the budgets below fit one and a half of them.
    private static readonly long _worst = BudgetTests.WorstCaseNanos(Prompt, maxTokens: 10, inMicros: 150_000, outMicros: 600_000);
    private static readonly decimal _budget = _worst * 3 / 2 / 1_000_000_000m;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        JsonObject Plan(string limit, JsonNode value) => new() { ["Models"] = new JsonArray("*"), [limit] = value };
        c["Plans"]!["per-minute-2"] = Plan("RequestsPerMinute", 2);
        c["Plans"]!["per-minute-1"] = Plan("RequestsPerMinute", 1);
        c["Plans"]!["per-day"] = Plan("RequestsPerDay", 1);
        c["Plans"]!["daily-budget"] = Plan("BudgetPerDay", _budget);
        c["Plans"]!["monthly-budget"] = Plan("BudgetPerMonth", _budget);
        c["Plans"]!["small-tpm"] = Plan("TokensPerMinute", 50);
        c["Plans"]!["single"] = Plan("MaxConcurrentRequests", 1);
    }, _time);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task RequestsPerMinute_Refused_SdkWaitsTheRetryAfterAndIsAdmitted()
    {
        string key = await _gateway.CreateKeyAsync(plan: "per-minute-2");
        await SendOkAsync(key);
        await SendOkAsync(key);
        _time.Advance(TimeSpan.FromSeconds(20));
        var (retries, attempts, ids, chat) = Client(key);
        string requestId = ids.Use();

        var completion = await chat.CompleteChatAsync([new UserChatMessage(Prompt)], Options());

        Assert.Equal([429, 200], attempts.Attempts.Select(a => a.Status));
        var refused = attempts.Attempts[0];
        Assert.Equal(("41", "41000"), (refused.Header("Retry-After"), refused.Header("retry-after-ms")));
        Assert.Null(refused.Header("x-should-retry"));
        Assert.Equal("2/0/41s", RequestHeaders(refused));
        Assert.Equal([TimeSpan.FromSeconds(41)], retries.Delays);
        // The refusal consumed nothing: after the window moved on, the admitted retry is the only request counted.
        Assert.Equal("1", attempts.Attempts[1].Header("x-ratelimit-remaining-requests"));
        Assert.Equal(10, completion.Value.Usage.OutputTokenCount);
        await AssertLedgerAsync(requestId, refused: 1, "rate_limit_exceeded", allowed: 1);
    }

    [Fact]
    public async Task RequestsPerMinute_LimitReachedInTheSameSecond_NeverAsksForMoreThanSixtySeconds()
    {
        string key = await _gateway.CreateKeyAsync(plan: "per-minute-1");
        _time.Advance(TimeSpan.FromMilliseconds(300));
        await SendOkAsync(key);
        _time.Advance(TimeSpan.FromMilliseconds(400));
        var (retries, attempts, ids, chat) = Client(key);
        string requestId = ids.Use();

        await chat.CompleteChatAsync([new UserChatMessage(Prompt)], Options());

        // Counted in 1-second slots, the first request leaves the minute 60.3 s after the refusal; the gateway asks
        // for 60 s (what LangChain and the Vercel AI SDK accept), and the retry then learns the last 0.3 s.
        var all = attempts.Attempts;
        Assert.Equal([429, 429, 200], all.Select(a => a.Status));
        Assert.Equal(("60", "60000"), (all[0].Header("Retry-After"), all[0].Header("retry-after-ms")));
        Assert.Equal(("1", "300"), (all[1].Header("Retry-After"), all[1].Header("retry-after-ms")));
        Assert.All(all.Take(2), a => Assert.StartsWith("1/0/", RequestHeaders(a), StringComparison.Ordinal));
        // The SDK waits the longer of Retry-After and its own backoff (0.8 s, doubling).
        Assert.Equal([TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1.6)], retries.Delays);
        await AssertLedgerAsync(requestId, refused: 2, "rate_limit_exceeded", allowed: 1);
    }

    [Fact]
    public async Task RequestsPerDay_Refused_NoRetryHintAndSdkStopsAfterItsDefaultRetries()
    {
        var (keyId, key) = await _gateway.CreateKeyWithIdAsync(plan: "per-day");
        await SendOkAsync(key);
        var perDay = KeyCheck(keyId, Metric.Requests, Window.Day);
        var (retries, attempts, ids, chat) = Client(key);
        string requestId = ids.Use();

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage(Prompt)], Options()));

        Assert.Equal(429, error.Status);
        Assert.Contains("requests per day limit 1, requested 1, remaining 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("capacity returns at 2026-11-24T12:24:00Z", error.Message, StringComparison.Ordinal);
        AssertAskedNotToRetry(attempts, retries);
        Assert.All(attempts.Attempts, a => Assert.StartsWith("1/0/", RequestHeaders(a), StringComparison.Ordinal));
        Assert.All(attempts.Attempts, a => Assert.True(Seconds(a.Header("x-ratelimit-reset-requests")!) > 60));
        Assert.Equal(1, await _gateway.Quotas.UsedAsync(perDay, _time.GetUtcNow(), CancellationToken.None));
        await AssertLedgerAsync(requestId, refused: 4, "rate_limit_exceeded", allowed: 0);
    }

    [Theory]
    [InlineData("daily-budget", "budget per calendar day", "2026-11-24T00:00:00Z")]
    [InlineData("monthly-budget", "budget per calendar month", "2026-12-01T00:00:00Z")]
    public async Task Budget_Exhausted_NoRetryHintAndTheResetTimeInHeadersAndMessage(string plan, string limit, string reset)
    {
        var (keyId, key) = await _gateway.CreateKeyWithIdAsync(plan: plan);
        await SendOkAsync(key);
        var budget = KeyCheck(keyId, Metric.Spend, plan == "daily-budget" ? Window.CalendarDay : Window.CalendarMonth);
        long spent = await _gateway.Quotas.UsedAsync(budget, _time.GetUtcNow(), CancellationToken.None);
        var (retries, attempts, ids, chat) = Client(key);
        string requestId = ids.Use();

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage(Prompt)], Options()));

        Assert.Equal(429, error.Status);
        Assert.Contains(limit, error.Message, StringComparison.Ordinal);
        Assert.Contains("capacity returns at " + reset, error.Message, StringComparison.Ordinal);
        AssertAskedNotToRetry(attempts, retries);
        Assert.All(attempts.Attempts, a => Assert.Equal(reset, a.Header("x-tollgate-budget-reset")));
        Assert.All(attempts.Attempts, a => Assert.NotNull(a.Header("x-tollgate-budget-remaining-usd")));
        Assert.True(spent >= _worst / 2);
        Assert.Equal(spent, await _gateway.Quotas.UsedAsync(budget, _time.GetUtcNow(), CancellationToken.None));
        await AssertLedgerAsync(requestId, refused: 4, "insufficient_quota", allowed: 0);
    }

    [Fact]
    public async Task TokensPerMinute_RequestLargerThanTheLimit_NoRetryHint()
    {
        var (keyId, key) = await _gateway.CreateKeyWithIdAsync(plan: "small-tpm");
        var (retries, attempts, ids, chat) = Client(key);
        string requestId = ids.Use();

        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            chat.CompleteChatAsync([new UserChatMessage(Prompt)], new ChatCompletionOptions { MaxOutputTokenCount = 100 }));

        Assert.Equal(429, error.Status);
        Assert.Contains("this request alone is larger than the limit", error.Message, StringComparison.Ordinal);
        AssertAskedNotToRetry(attempts, retries);
        Assert.All(attempts.Attempts, a => Assert.Equal(("50", "50"), (a.Header("x-ratelimit-limit-tokens"), a.Header("x-ratelimit-remaining-tokens"))));
        Assert.Equal(0, await _gateway.Quotas.UsedAsync(KeyCheck(keyId, Metric.Tokens, Window.Minute), _time.GetUtcNow(), CancellationToken.None));
        await AssertLedgerAsync(requestId, refused: 4, "rate_limit_exceeded", allowed: 0);
    }

    [Fact]
    public async Task Concurrency_Refused_AsksForOneSecondAndRefusalsConsumeNothing()
    {
        var (keyId, key) = await _gateway.CreateKeyWithIdAsync(plan: "single");
        string held = """{"model":"sim-mini","stream":true,"messages":[{"role":"user","content":"[[sim:hold=retry]]"}]}""";
        var first = _gateway.Http.SendAsync(ChatCompletionTests.Json(key, held), HttpCompletionOption.ResponseHeadersRead);
        await _gateway.Simulator.Barrier.WaitForWaitingAsync("retry", 1, CancellationToken.None);
        var (retries, attempts, ids, chat) = Client(key);
        string requestId = ids.Use();

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage(Prompt)], Options()));

        Assert.Equal(429, error.Status);
        Assert.Equal(4, attempts.Attempts.Count);
        Assert.All(attempts.Attempts, a =>
        {
            Assert.Equal(429, a.Status);
            Assert.Equal(("1", "1000"), (a.Header("Retry-After"), a.Header("retry-after-ms")));
            Assert.NotNull(a.Header("x-ratelimit-remaining-requests"));
        });
        // The longer of Retry-After and the SDK's own backoff (0.8 s, doubling): never a long sleep.
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.6), TimeSpan.FromSeconds(3.2)], retries.Delays);
        Assert.Equal(1, await _gateway.Quotas.UsedAsync(KeyCheck(keyId, Metric.Concurrency, Window.Concurrent), _time.GetUtcNow(), CancellationToken.None));
        _gateway.Simulator.Barrier.Release("retry");
        using (var response = await first)
        {
            _ = await response.Content.ReadAsStringAsync();
        }

        await AssertLedgerAsync(requestId, refused: 4, "concurrency_limit_exceeded", allowed: 0);
    }

    private static ChatCompletionOptions Options() => new() { MaxOutputTokenCount = 10 };

    private (RecordingRetryPolicy Retries, AttemptRecorder Attempts, RequestIdPolicy Ids, ChatClient Chat) Client(string key)
    {
        var retries = new RecordingRetryPolicy(_time);
        var attempts = new AttemptRecorder();
        var ids = new RequestIdPolicy();
        return (retries, attempts, ids, _gateway.OpenAIWithRetries(key, retries, attempts, ids).GetChatClient("sim-mini"));
    }

    private async Task SendOkAsync(string key)
    {
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key,
            $$"""{"model":"sim-mini","max_tokens":10,"messages":[{"role":"user","content":"{{Prompt}}"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // Told not to retry, the SDK (which ignores x-should-retry) still retries its default 3 times, at its own short
    // backoff: never the hours to the window's end.
    private static void AssertAskedNotToRetry(AttemptRecorder attempts, RecordingRetryPolicy retries)
    {
        Assert.Equal(4, attempts.Attempts.Count);
        Assert.All(attempts.Attempts, a =>
        {
            Assert.Equal(429, a.Status);
            Assert.Equal("false", a.Header("x-should-retry"));
            Assert.Null(a.Header("Retry-After"));
            Assert.Null(a.Header("retry-after-ms"));
            Assert.NotNull(a.Header("x-ratelimit-limit-requests"));
            Assert.NotNull(a.Header("x-ratelimit-remaining-requests"));
            Assert.NotNull(a.Header("x-ratelimit-reset-requests"));
        });
        Assert.Equal(3, retries.Delays.Count);
        Assert.All(retries.Delays, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromSeconds(10)));
    }

    // limit/remaining/reset of the request headers.
    private static string RequestHeaders(Attempt attempt) =>
        $"{attempt.Header("x-ratelimit-limit-requests")}/{attempt.Header("x-ratelimit-remaining-requests")}/{attempt.Header("x-ratelimit-reset-requests")}";

    private async Task AssertLedgerAsync(string requestId, int refused, string reason, int allowed)
    {
        // The client can read the last refusal before its handler has queued the record.
        await _gateway.RequestsEndedAsync();
        var records = await _gateway.AuditRecordsAsync(new UsageQuery(RequestId: requestId));
        var refusals = records.Where(r => r.Decision == Decisions.Refused).ToList();
        Assert.Equal(refused, refusals.Count);
        Assert.All(refusals, r => Assert.Equal((reason, 429, 0L, 0L, (long?)null), (r.Reason, r.Status, r.CostNanos, r.Usage.TotalTokens, r.OutputCap)));
        Assert.Equal(allowed, records.Count(r => r.Decision == Decisions.Allowed));
        Assert.Equal(0, _gateway.Quotas.Outstanding);
    }

    private static LimitCheck KeyCheck(string keyId, Metric metric, Window window) =>
        new(new Scope(ScopeKind.Key, "k:" + keyId, "key " + keyId, TimeZoneInfo.Utc), metric, window, long.MaxValue, 0, 0);

    // A Go-style duration (2h3m4s, 41s, 120ms) in seconds.
    private static double Seconds(string duration)
    {
        double total = 0;
        int start = 0;
        for (int i = 0; i < duration.Length; i++)
        {
            if (char.IsAsciiDigit(duration[i]))
            {
                continue;
            }

            double value = double.Parse(duration[start..i], CultureInfo.InvariantCulture);
            bool millis = duration[i] == 'm' && i + 1 < duration.Length && duration[i + 1] == 's';
            total += millis ? value / 1000 : duration[i] switch { 'h' => value * 3600, 'm' => value * 60, _ => value };
            i += millis ? 1 : 0;
            start = i + 1;
        }

        return total;
    }
}
