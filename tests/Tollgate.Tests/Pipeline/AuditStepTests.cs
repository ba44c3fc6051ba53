using System.Text;
using Tollgate.Audit;
using Tollgate.Metrics;
using Tollgate.Pipeline.Steps;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Proxy;

namespace Tollgate.Tests.Pipeline;

public sealed class AuditStepTests : IAsyncLifetime
{
    private readonly StepHarness _harness = new();
    private readonly InFlightRequests _inFlight = new();
    private readonly GatewayMetrics _metrics;
    private readonly AuditStep _step;

    public AuditStepTests()
    {
        _metrics = new GatewayMetrics(() => _harness.Ledger);
        _step = new AuditStep(_harness.Ledger, _metrics, _inFlight);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Fact]
    public async Task End_RefusedRequest_OneRecordWithTheDecisionAndReason()
    {
        _step.Begin();
        var context = _harness.Context(StepHarness.ChatBody());
        context.KeyId = "key_revoked";
        context.Reason = ErrorCodes.InvalidApiKey;
        context.Http.Response.StatusCode = 401;

        _step.End(context);

        Assert.Equal(0, _inFlight.Count);
        var record = Assert.Single(await RecordsAsync());
        Assert.Equal((Decisions.Refused, ErrorCodes.InvalidApiKey, 401), (record.Decision, record.Reason, record.Status));
        Assert.Equal((context.RequestId, "chat.completions", "key_revoked"), (record.RequestId, record.Endpoint, record.KeyId));
        Assert.Equal((UsageSource.None, 0L, (string?)null), (record.UsageSource, record.CostNanos, record.ReservationId));
        Assert.Contains("tollgate_requests_total{decision=\"refused\",reason=\"invalid_api_key\",model=\"none\",endpoint=\"chat.completions\"} 1", await MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task End_AdmittedAndBilled_TheRecordCarriesTheCallerAndTheBill()
    {
        _step.Begin();
        var context = await _harness.AdmittedAsync(StepHarness.ChatBody("mini", ",\"max_tokens\":20"));
        var held = context.Reservation!;
        held.BillReported(new TokenUsage(held.Admission.InputTokens, 0, 7, 0));
        await held.SettleAsync();
        context.UpstreamStatus = 200;

        _step.End(context);

        var record = Assert.Single(await RecordsAsync());
        Assert.Equal((Decisions.Allowed, AuditReasons.Ok), (record.Decision, record.Reason));
        Assert.Equal((context.Caller!.KeyId, "acme", "alice"), (record.KeyId, record.Tenant, record.User));
        Assert.Equal(("chat-mini", "scripted", 200), (record.Model, record.Upstream, record.UpstreamStatus));
        Assert.Equal((held.Usage, held.CostNanos, UsageSource.Reported), (record.Usage, record.CostNanos, record.UsageSource));
        Assert.Equal((held.Admission.Reservation.Id, 20L), (record.ReservationId, record.OutputCap));
        Assert.Equal("127.0.0.1", record.SourceAddress);
    }

    [Fact]
    public async Task BeginEnd_TwoRequests_OneRecordEachAndInFlightBackToZero()
    {
        _step.Begin();
        _step.Begin();
        Assert.Equal(2, _inFlight.Count);
        var first = _harness.Context();
        var second = _harness.Context();
        first.RequestedModel = new string('m', 300);

        _step.End(first);
        Assert.Equal(1, _inFlight.Count);
        _step.End(second);

        Assert.Equal(0, _inFlight.Count);
        var records = await RecordsAsync();
        Assert.Equal([first.RequestId, second.RequestId], records.Select(r => r.RequestId).Order(StringComparer.Ordinal));
        Assert.Equal(128, records.Single(r => r.RequestId == first.RequestId).Model!.Length);
        Assert.Contains("tollgate_requests_in_flight 0", await MetricsAsync(), StringComparison.Ordinal);
    }

    private async Task<IReadOnlyList<AuditRecord>> RecordsAsync()
    {
        await _harness.Ledger.FlushAsync();
        return await _harness.LedgerStore.ReadAsync(new UsageQuery(), 100, CancellationToken.None);
    }

    private async Task<string> MetricsAsync()
    {
        using var output = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(output);
        return Encoding.UTF8.GetString(output.ToArray());
    }
}
