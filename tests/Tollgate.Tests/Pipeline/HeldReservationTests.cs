using Tollgate.Configuration;
using Tollgate.Limits;
using Tollgate.Pipeline;
using Tollgate.Pricing;
using Tollgate.Tokenization;

namespace Tollgate.Tests.Pipeline;

public sealed class HeldReservationTests : IAsyncLifetime
{
    private readonly CountingQuotaStore _quotas = new();
    private readonly StepHarness _harness;
    private RequestContext _context = null!;

    public HeldReservationTests() => _harness = new StepHarness(quotas: _quotas);

    private HeldReservation Held => _context.Reservation!;

    private long Input => Held.Admission.InputTokens;

    public async Task InitializeAsync() => _context = await _harness.AdmittedAsync(StepHarness.ChatBody("chat-mini", ",\"max_tokens\":5"));

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Fact]
    public void Admission_MaxTokens_ReservesTheInputAndThatOutput()
    {
        Assert.InRange(Input, 5, 100);
        Assert.Equal((5L, 5L), (Held.Admission.OutputCap, Held.Admission.ReservedOutput));
        Assert.Equal(Input * 1_000 + 5 * 2_000, Held.Admission.WorstCostNanos);
    }

    [Fact]
    public void BillReported_WithinTheReservation_BilledAsReported()
    {
        Held.BillReported(new TokenUsage(Input, 0, 3, 0));

        Assert.Equal((new TokenUsage(Input, 0, 3, 0), UsageSource.Reported), (Held.Usage, Held.Source));
        Assert.Equal(Input * 1_000 + 3 * 2_000, Held.CostNanos);
        Assert.Equal(new TokenUsage(Input, 0, 3, 0), Held.Reported);
        Assert.False(Held.Overshoot);
        Assert.False(Held.Clamped);
        Assert.Null(Held.Rule);
    }

    [Fact]
    public void BillReported_MoreOutputThanReservedButPossible_BilledAsReportedAndFlagged()
    {
        Held.BillReported(new TokenUsage(Input, 0, 50, 0));

        Assert.Equal(50, Held.Usage.OutputTokens);
        Assert.True(Held.Overshoot);
        Assert.False(Held.Clamped);
    }

    [Fact]
    public void BillReported_MoreInputThanCounted_Flagged()
    {
        Held.BillReported(new TokenUsage(Input + 1, 0, 1, 0));

        Assert.Equal(Input + 1, Held.Usage.InputTokens);
        Assert.True(Held.Overshoot);
    }

    [Fact]
    public void BillReported_MoreThanTheRequestCanProduce_ClampedToTheBoundsAndFlagged()
    {
        var reported = new TokenUsage(50_000, 0, 100_000, 0);

        Held.BillReported(reported);

        Assert.Equal((32_000L, 4_096L), (Held.Usage.InputTokens, Held.Usage.OutputTokens));
        Assert.Equal(32_000L * 1_000 + 4_096L * 2_000, Held.CostNanos);
        Assert.True(Held.Clamped);
        Assert.True(Held.Overshoot);
        Assert.Equal(reported, Held.Reported);
    }

    [Fact]
    public void BillEstimate_ShortAnswer_CountedWithTheModelsTokenizer()
    {
        Held.BillEstimate("Tides rise.", flagOverrun: true);

        Assert.Equal(UsageSource.Estimated, Held.Source);
        Assert.Equal(Input, Held.Usage.InputTokens);
        Assert.Equal(TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase).Count("Tides rise."), Held.Usage.OutputTokens);
        Assert.InRange(Held.Usage.OutputTokens, 1, 4);
        Assert.False(Held.Overshoot);
        Assert.Null(Held.Reported);
    }

    [Fact]
    public void BillEstimate_AnswerLongerThanTheReservation_CappedAtItAndFlagged()
    {
        Held.BillEstimate(string.Join(' ', Enumerable.Repeat("tides", 200)), flagOverrun: true);

        Assert.Equal(new TokenUsage(Input, 0, 5, 0), Held.Usage);
        Assert.Equal(Held.Admission.WorstCostNanos, Held.CostNanos);
        Assert.True(Held.Overshoot);
    }

    [Fact]
    public void BillEstimate_BrokenBodyLongerThanTheReservation_CappedNotFlagged()
    {
        Held.BillEstimate(string.Join(' ', Enumerable.Repeat("{\"broken\":", 200)), flagOverrun: false);

        Assert.Equal(5, Held.Usage.OutputTokens);
        Assert.False(Held.Overshoot);
    }

    [Fact]
    public void BillUnknown_ReservationRule_TheReservedWorstCase()
    {
        Held.BillUnknown(Upstream(BillingRules.Reservation), UnknownOutcome.ResetBeforeHeaders, "");

        Assert.Equal((new TokenUsage(Input, 0, 5, 0), UsageSource.Reserved), (Held.Usage, Held.Source));
        Assert.Equal(Held.Admission.WorstCostNanos, Held.CostNanos);
        Assert.Equal("reset_before_headers:reservation", Held.Rule);
    }

    [Fact]
    public void BillUnknown_EstimateRule_CountsWhatArrived()
    {
        Held.BillUnknown(Upstream(BillingRules.Estimate), UnknownOutcome.ResetBeforeHeaders, "Tides follow");

        Assert.Equal(UsageSource.Estimated, Held.Source);
        Assert.InRange(Held.Usage.OutputTokens, 1, 4);
        Assert.Equal("reset_before_headers:estimate", Held.Rule);
    }

    [Fact]
    public void BillUnknown_NoneRule_Nothing()
    {
        Held.BillUnknown(Upstream(BillingRules.None), UnknownOutcome.ResetBeforeHeaders, "ignored");

        Assert.Equal((default(TokenUsage), UsageSource.None, 0L), (Held.Usage, Held.Source, Held.CostNanos));
        Assert.Equal("reset_before_headers:none", Held.Rule);
    }

    [Theory]
    [InlineData(UnknownOutcome.ConnectFailure, "connect_failure:none")]
    [InlineData(UnknownOutcome.TimeoutBeforeHeaders, "timeout_before_headers:reservation")]
    [InlineData(UnknownOutcome.ResetBeforeHeaders, "reset_before_headers:reservation")]
    [InlineData(UnknownOutcome.InvalidBody, "invalid_body:estimate")]
    [InlineData(UnknownOutcome.StreamCutWithoutUsage, "stream_cut_without_usage:estimate")]
    public void BillUnknown_DefaultRules_NamedInTheRule(UnknownOutcome outcome, string rule)
    {
        Held.BillUnknown(new UpstreamOptions(), outcome, "x");

        Assert.Equal(rule, Held.Rule);
    }

    [Fact]
    public void BillReported_AfterAnUnknownOutcome_ReplacesTheRule()
    {
        Held.BillUnknown(Upstream(BillingRules.Reservation), UnknownOutcome.ResetBeforeHeaders, "");

        Held.BillReported(new TokenUsage(Input, 0, 2, 0));

        Assert.Null(Held.Rule);
        Assert.Equal(UsageSource.Reported, Held.Source);
    }

    [Fact]
    public async Task SettleAsync_Twice_SettlesOnceToTheFirstBill()
    {
        Assert.Equal(Input + 5, await TokensUsedAsync());
        Held.BillReported(new TokenUsage(Input, 0, 3, 0));

        await Held.SettleAsync();
        Held.BillReported(new TokenUsage(Input, 0, 4, 0));
        await Held.SettleAsync();

        Assert.Equal(1, _quotas.Settles);
        Assert.True(Held.Ended);
        Assert.Equal(0, _quotas.Outstanding);
        Assert.Equal(Input + 3, await TokensUsedAsync());
    }

    [Fact]
    public async Task ReleaseAsync_AfterSettleAsync_NoOp()
    {
        Held.BillReported(new TokenUsage(Input, 0, 3, 0));
        await Held.SettleAsync();

        await Held.ReleaseAsync();

        Assert.Equal((1, 0), (_quotas.Settles, _quotas.Releases));
        Assert.Equal(Input + 3, await TokensUsedAsync());
        Assert.Equal(1, await RequestsUsedAsync());
    }

    [Fact]
    public async Task ReleaseAsync_BeforeSettling_ConsumesNothingAndLaterSettlesAreNoOps()
    {
        await Held.ReleaseAsync();
        await Held.SettleAsync();
        await Held.DisposeAsync();

        Assert.Equal((0, 1), (_quotas.Settles, _quotas.Releases));
        Assert.Equal(0, _quotas.Outstanding);
        Assert.Equal(0, await TokensUsedAsync());
        Assert.Equal(0, await RequestsUsedAsync());
    }

    [Fact]
    public async Task DisposeAsync_NotEnded_SettlesTheBill()
    {
        Held.BillReported(new TokenUsage(Input, 0, 2, 0));

        await Held.DisposeAsync();

        Assert.Equal(1, _quotas.Settles);
        Assert.Equal(Input + 2, await TokensUsedAsync());
    }

    private static UpstreamOptions Upstream(string resetRule) => new() { UnknownOutcomes = new() { ResetBeforeHeaders = resetRule } };

    private ValueTask<long> TokensUsedAsync() => UsedAsync(Metric.Tokens, Window.Day);

    private ValueTask<long> RequestsUsedAsync() => UsedAsync(Metric.Requests, Window.Minute);

    private ValueTask<long> UsedAsync(Metric metric, Window window)
    {
        var caller = _context.Caller!;
        var check = LimitPlanner.BuildChecks(_harness.Config, _harness.Config.Options.Plans[caller.Plan], caller.KeyId, caller.Tenant, caller.User, null, null, default)
            .Single(c => c.Scope.Kind == ScopeKind.Key && c.Metric == metric && c.Window == window);
        return _quotas.UsedAsync(check, _harness.Time.GetUtcNow(), CancellationToken.None);
    }
}
