using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Tollgate.Audit;
using Tollgate.Caching;
using Tollgate.Configuration;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Upstreams;

namespace Tollgate.Tests.Pipeline;

/// <summary>
/// The cache step without a server: when it applies, the key it computes (on the body as forwarded), what a relay's
/// answer leaves in the cache (never a fallback's), how a hit is billed, and what followers of a failed leader do.
/// </summary>
public sealed class CacheLookupStepTests : IAsyncLifetime
{
    private readonly StepHarness _harness = new(o =>
    {
        o.Plans["basic"].CacheResponses = true;
        o.Plans["basic"].CacheHitPricePercent = 50;
        o.Plans["capped"] = new PlanOptions { Models = ["chat-mini"], CacheResponses = true, DefaultMaxOutputTokens = 100 };
        o.Plans["capped-lower"] = new PlanOptions { Models = ["chat-mini"], CacheResponses = true, DefaultMaxOutputTokens = 50 };
        o.Models["chat-mini"].CacheResponses = true;
    });

    private readonly InMemoryResponseCache _cache = new();
    private readonly ResponseFlights _flights = new();
    private readonly UpstreamClients _upstreams = new([new OpenAIUpstreamHandlerFactory()]);
    private readonly CacheLookupStep _step;

    public CacheLookupStepTests() =>
        _step = new CacheLookupStep(_cache, _flights, _upstreams, _harness.Time, NullLogger<CacheLookupStep>.Instance);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _harness.DisposeAsync();
        _upstreams.Dispose();
    }

    [Theory]
    [InlineData("basic", "chat-mini", true)]
    [InlineData("premium", "chat-mini", false)]
    [InlineData("premium", "chat-large", false)]
    public async Task AppliesTo_OnlyWhenPlanAndModelBothOptIn(string plan, string model, bool applies)
    {
        var context = await _harness.AdmittedAsync(StepHarness.ChatBody(model), plan: plan);

        Assert.Equal(applies, CacheLookupStep.AppliesTo(context));
    }

    [Fact]
    public async Task RunAsync_Miss_LeadsAFlightAndSaysMiss()
    {
        var context = await _harness.AdmittedAsync(StepHarness.ChatBody());

        var lookup = await _step.RunAsync(context);

        Assert.Equal(default, lookup);
        Assert.NotNull(context.CacheFill);
        Assert.Equal("miss", context.Http.Response.Headers[CacheLookupStep.Header].ToString());
        Assert.Equal(1, _flights.Count);
        await context.CacheFill.DisposeAsync();
        Assert.Equal(0, _flights.Count);
    }

    [Theory]
    [InlineData("no-store", false)]
    [InlineData("no-cache", true)]
    public async Task RunAsync_CacheControl_NoStoreTurnsItOff_NoCacheStoresWithoutLookingUp(string directive, bool fill)
    {
        var first = await _harness.AdmittedAsync(StepHarness.ChatBody());
        await RelayAsync(first, Completion("Tides."));
        var context = await _harness.AdmittedAsync(StepHarness.ChatBody());
        context.Http.Request.Headers.CacheControl = directive;

        var lookup = await _step.RunAsync(context);

        Assert.False(lookup.Done);
        Assert.Equal(fill, context.CacheFill is not null);
        Assert.Equal(fill ? "miss" : "", context.Http.Response.Headers[CacheLookupStep.Header].ToString());
        Assert.Equal(0, _flights.Count);
    }

    [Fact]
    public async Task RunAsync_AgainForARetry_GoesOnWithTheFillItHas()
    {
        var context = await _harness.AdmittedAsync(StepHarness.ChatBody());
        await _step.RunAsync(context);
        var fill = context.CacheFill;

        var again = await _step.RunAsync(context);

        Assert.Equal(default, again);
        Assert.Same(fill, context.CacheFill);
        Assert.Equal((1, 0), (_flights.Count, _flights.Following));
        await fill!.DisposeAsync();
    }

    [Fact]
    public async Task RunAsync_RequestWithProviderSideState_IsLeftAlone()
    {
        var context = await _harness.AdmittedAsync(StepHarness.ChatBody("chat-mini", ",\"store\":true"));

        var lookup = await _step.RunAsync(context);

        Assert.Equal(default, lookup);
        Assert.Null(context.CacheFill);
        Assert.False(context.Http.Response.Headers.ContainsKey(CacheLookupStep.Header));
    }

    [Fact]
    public async Task Key_IsComputedOnTheBodyAsForwarded()
    {
        // No cap sent: the plan's default (100) is written into the forwarded body, which then equals the body of a
        // caller who sent that cap; a plan injecting 50 forwards another body, so it never shares the answer.
        var injected = await KeyAsync(StepHarness.ChatBody(), "capped");
        var explicitCap = await KeyAsync(StepHarness.ChatBody("chat-mini", ",\"max_completion_tokens\":100"), "capped");
        var lowerCap = await KeyAsync(StepHarness.ChatBody(), "capped-lower");
        var alias = await KeyAsync(StepHarness.ChatBody("mini"), "capped");

        Assert.Equal(injected, explicitCap);
        Assert.Equal(injected, alias);
        Assert.NotEqual(injected, lowerCap);
    }

    [Fact]
    public async Task Relay_CompleteAnswer_IsStoredAndTheNextRequestHits()
    {
        var first = await _harness.AdmittedAsync(StepHarness.ChatBody());
        await RelayAsync(first, Completion("Tides follow the moon."));

        var second = await _harness.AdmittedAsync(StepHarness.ChatBody());
        var lookup = await _step.RunAsync(second);

        Assert.Equal(new CacheLookup(true, null), lookup);
        Assert.Equal(1, _cache.Count);
        Assert.Equal(new TokenUsage(first.Reservation!.Admission.InputTokens, 0, 6, 0), second.Reservation!.Reported);
        Assert.Equal("hit", second.Http.Response.Headers[CacheLookupStep.Header].ToString());
    }

    [Fact]
    public async Task Relay_AnsweredByFallback_NothingStoredAndFollowersGoUpstream()
    {
        var leader = await _harness.AdmittedAsync(StepHarness.ChatBody());
        await _step.RunAsync(leader);
        var follower = await _harness.AdmittedAsync(StepHarness.ChatBody());
        var following = _step.RunAsync(follower).AsTask();
        await _flights.WaitForFollowersAsync(1, CancellationToken.None);
        leader.AnsweredByFallback = true;

        await RelayAsync(leader, Completion("A fallback's answer."), lookup: false);
        var lookup = await following;

        Assert.Null(leader.CacheFill!.Answer);
        Assert.Equal(0, _cache.Count);
        Assert.Equal(default, lookup);
        Assert.NotNull(follower.CacheFill);
        Assert.Equal("miss", follower.Http.Response.Headers[CacheLookupStep.Header].ToString());
    }

    [Fact]
    public async Task Relay_RetryAdmittedWithAnotherOutputCap_NothingStoredUnderTheFirstCapsKey()
    {
        var leader = await _harness.AdmittedAsync(StepHarness.ChatBody(extra: ",\"max_tokens\":100"));
        await _step.RunAsync(leader);
        // A retry of the attempt was admitted with a smaller cap (a plan that clamps to what remains): its body, and so
        // its answer, is not the one the key was computed on.
        var retry = await _harness.AdmittedAsync(StepHarness.ChatBody(extra: ",\"max_tokens\":20"));
        Assert.NotEqual(leader.Reservation!.Admission.OutputCap, retry.Reservation!.Admission.OutputCap);
        leader.Reservation = retry.Reservation;

        await RelayAsync(leader, Completion("A shorter answer."), lookup: false);

        Assert.Null(leader.CacheFill!.Answer);
        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public async Task Relay_FollowerGoingUpstreamAfterAFailedLeader_StoresItsOwnAnswer()
    {
        var leader = await _harness.AdmittedAsync(StepHarness.ChatBody());
        await _step.RunAsync(leader);
        var follower = await _harness.AdmittedAsync(StepHarness.ChatBody());
        var following = _step.RunAsync(follower).AsTask();
        await _flights.WaitForFollowersAsync(1, CancellationToken.None);

        await leader.CacheFill!.DisposeAsync();
        await following;
        await RelayAsync(follower, Completion("Tides."), lookup: false);

        Assert.Equal(1, _cache.Count);
    }

    [Fact]
    public async Task RunAsync_Hit_BillsNoTokensAndThePlansShareOfThePriceAndSettles()
    {
        var first = await _harness.AdmittedAsync(StepHarness.ChatBody());
        await RelayAsync(first, Completion("Tides follow the moon."));
        var stored = first.Reservation!.Reported!.Value;
        var second = await _harness.AdmittedAsync(StepHarness.ChatBody());

        var lookup = await _step.RunAsync(second);

        var held = second.Reservation!;
        long full = second.Model!.Price.CostNanos(stored);
        Assert.Equal(new CacheLookup(true, null), lookup);
        Assert.Equal((default(TokenUsage), (full + 1) / 2, stored), (held.Usage, held.CostNanos, held.Reported!.Value));
        Assert.True(held.Ended);
        Assert.Equal(0, _harness.Quotas.Outstanding);
        Assert.Equal(AuditReasons.CacheHit, second.Reason);
        var response = second.Http.Response;
        Assert.Equal(("hit", "application/json"), (response.Headers[CacheLookupStep.Header].ToString(), response.ContentType));
        Assert.Equal(Money.FormatDollars(held.CostNanos), response.Headers[BufferedRelayStep.CostHeader].ToString());
        using var body = JsonDocument.Parse(StepHarness.ResponseText(second));
        Assert.Equal(held.CostNanos, body.RootElement.GetProperty("usage").GetProperty("cost_nanousd").GetInt64());
        Assert.Equal(6, body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        var record = second.ToRecord();
        Assert.Equal((AuditReasons.CacheHit, 0L, held.CostNanos, 6L), (record.Reason, record.Usage.TotalTokens, record.CostNanos, record.ReportedOutputTokens!.Value));
    }

    [Fact]
    public async Task StoreThatFails_IsAMissAndNeverFailsTheRequest()
    {
        var step = new CacheLookupStep(new BrokenCache(), _flights, _upstreams, _harness.Time, NullLogger<CacheLookupStep>.Instance);
        var context = await _harness.AdmittedAsync(StepHarness.ChatBody());

        var lookup = await step.RunAsync(context);
        await RelayAsync(context, Completion("Tides."), lookup: false);

        Assert.Equal(default, lookup);
        Assert.NotNull(context.CacheFill!.Answer);
        Assert.Equal(0, _flights.Count);
    }

    [Fact]
    public async Task StoredAnswer_ExpiresAfterTheTtl()
    {
        var first = await _harness.AdmittedAsync(StepHarness.ChatBody());
        await RelayAsync(first, Completion("Tides."));
        _harness.Time.Advance(_harness.Options.Cache.Ttl);

        var second = await _harness.AdmittedAsync(StepHarness.ChatBody());
        var lookup = await _step.RunAsync(second);

        Assert.False(lookup.Done);
        await second.CacheFill!.DisposeAsync();
    }

    private async Task<ResponseCacheKey> KeyAsync(string body, string plan)
    {
        var context = await _harness.AdmittedAsync(body, plan: plan);
        await _step.RunAsync(context);
        var key = context.CacheFill!.Key;
        await context.CacheFill.DisposeAsync();
        return key;
    }

    // The cache step (unless already run), the buffered relay of an upstream answer, and the end of the request.
    private async Task RelayAsync(RequestContext context, string answer, bool lookup = true)
    {
        if (lookup)
        {
            await _step.RunAsync(context);
        }

        string body = answer.Replace("INPUT", context.Reservation!.Admission.InputTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
            StringComparison.Ordinal);
        await using (var call = _harness.Call(body))
        {
            Assert.Null(await BufferedRelayStep.RunAsync(context, call));
        }

        await context.CacheFill!.DisposeAsync();
    }

    private static string Completion(string content) =>
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"chat-mini-2025\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
        + JsonSerializer.Serialize(content) + "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":INPUT,\"completion_tokens\":6,\"total_tokens\":7}}";

    private sealed class BrokenCache : IResponseCache
    {
        public ValueTask<CachedAnswer?> GetAsync(ResponseCacheKey key, DateTimeOffset now, CancellationToken cancellationToken) =>
            ValueTask.FromException<CachedAnswer?>(new IOException("The cache is unreachable."));

        public ValueTask SetAsync(ResponseCacheKey key, CachedAnswer answer, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken cancellationToken) =>
            ValueTask.FromException(new IOException("The cache is unreachable."));
    }
}
