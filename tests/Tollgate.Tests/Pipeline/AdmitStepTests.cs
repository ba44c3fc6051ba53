using Tollgate.Audit;
using Tollgate.Limits;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Protocol;
using Tollgate.Protocols;

namespace Tollgate.Tests.Pipeline;

public sealed class AdmitStepTests : IAsyncLifetime
{
    private readonly OutageLedgerStore _ledgerStore = new();
    private readonly StepHarness _harness;

    public AdmitStepTests() => _harness = new StepHarness(ledgerStore: _ledgerStore);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Fact]
    public async Task RunAsync_Admitted_ReservationLeaseAndLimitHeaders()
    {
        var context = await AuthorizedAsync("basic");
        context.Http.Request.Headers[AdmissionPolicy.TaskHeader] = "build-42";

        var error = await _harness.Admit.RunAsync(context);

        Assert.Null(error);
        var held = Assert.IsType<HeldReservation>(context.Reservation);
        Assert.Equal(Decisions.Allowed, context.Decision);
        Assert.Equal(("127.0.0.1", "build-42"), (context.SourceAddress, context.Task));
        Assert.Equal(4_096, held.Admission.OutputCap);
        Assert.False(held.Ended);
        Assert.Equal(1, _harness.Quotas.Outstanding);
        var headers = context.Http.Response.Headers;
        Assert.Equal(("100", "99"), (headers["x-ratelimit-limit-requests"].ToString(), headers["x-ratelimit-remaining-requests"].ToString()));
        var lease = Assert.Single(await _ledgerStore.ReadLeasesAsync(CancellationToken.None));
        Assert.Equal((held.Admission.Reservation.Id, context.RequestId, "chat-mini", "build-42"), (lease.Id, lease.RequestId, lease.Model, lease.Task));
        Assert.Equal((held.Admission.InputTokens, 4_096L, held.Admission.WorstCostNanos), (lease.Usage.InputTokens, lease.Usage.OutputTokens, lease.CostNanos));
    }

    [Fact]
    public async Task RunAsync_LedgerUnavailable_503WithoutReserving()
    {
        var context = await AuthorizedAsync("basic");
        _ledgerStore.Down = true;
        _harness.Ledger.ReportWriteFailure(new IOException("No space left on device."));

        var error = await _harness.Admit.RunAsync(context);

        Assert.Equal((503, ErrorTypes.Unavailable, ErrorCodes.LedgerUnavailable), (error?.Status, error?.Type, error?.Code));
        Assert.Null(context.Reservation);
        Assert.Equal(Decisions.Refused, context.Decision);
        Assert.Equal(0, _ledgerStore.LeaseAttempts);
        Assert.Equal(0, _harness.Quotas.Outstanding);
    }

    [Fact]
    public async Task RunAsync_OverTheRequestLimit_429WithoutAReservation()
    {
        var (_, secret) = await _harness.CreateKeyAsync("one-per-minute");
        var first = await AuthorizedWithAsync(secret);
        Assert.Null(await _harness.Admit.RunAsync(first));
        await first.Reservation!.SettleAsync();
        var second = await AuthorizedWithAsync(secret);

        var error = await _harness.Admit.RunAsync(second);

        Assert.Equal((429, ErrorCodes.RateLimitExceeded), (error?.Status, error?.Code));
        Assert.Contains("requests per minute", error!.Message, StringComparison.Ordinal);
        Assert.NotNull(error.RetryAfter);
        Assert.NotEmpty(error.Limits);
        Assert.Null(second.Reservation);
        Assert.Equal(Decisions.Refused, second.Decision);
        Assert.Equal(0, _harness.Quotas.Outstanding);
        Assert.Single(await _ledgerStore.ReadLeasesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RunAsync_LeaseCannotBeWritten_503ReleasedAndLedgerNotReady()
    {
        var context = await AuthorizedAsync("basic");
        Assert.True(_harness.Ledger.CanAccept);
        _ledgerStore.Down = true;

        var error = await _harness.Admit.RunAsync(context);

        Assert.Equal((503, ErrorCodes.LedgerUnavailable), (error?.Status, error?.Code));
        Assert.Equal(TimeSpan.FromSeconds(1), error!.RetryAfter);
        Assert.Equal(1, _ledgerStore.LeaseAttempts);
        Assert.Null(context.Reservation);
        Assert.Equal(Decisions.Refused, context.Decision);
        Assert.Equal(0, _harness.Quotas.Outstanding);
        Assert.False(_harness.Ledger.CanAccept);
        // Released, not settled: the refused request consumes nothing, not even a request.
        Assert.Equal(0, await _harness.Quotas.UsedAsync(RequestsPerMinute(context), _harness.Time.GetUtcNow(), CancellationToken.None));
        Assert.False(context.Http.Response.Headers.ContainsKey("x-ratelimit-limit-requests"));
    }

    [Fact]
    public async Task RunAsync_RefusedByShape_NoReservation()
    {
        var context = await AuthorizedAsync("basic", StepHarness.ChatBody("chat-mini", ",\"n\":9"));

        var error = await _harness.Admit.RunAsync(context);

        Assert.Equal((400, ErrorCodes.ParamNotAllowed, "n"), (error?.Status, error?.Code, error?.Param));
        Assert.Null(context.Reservation);
        Assert.Equal(0, _harness.Quotas.Outstanding);
    }

    private async Task<RequestContext> AuthorizedAsync(string plan, string? body = null)
    {
        var (_, secret) = await _harness.CreateKeyAsync(plan);
        return await AuthorizedWithAsync(secret, body);
    }

    /// <summary>A request by the key <paramref name="secret"/> that passed every step before admission.</summary>
    private async Task<RequestContext> AuthorizedWithAsync(string secret, string? body = null)
    {
        var context = _harness.Context(body ?? StepHarness.ChatBody(), bearer: secret);
        Assert.Null(await _harness.Authenticate.RunAsync(context));
        Assert.Null(await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader));
        Assert.Null(AuthorizeStep.Run(context));
        return context;
    }

    private LimitCheck RequestsPerMinute(RequestContext context) =>
        LimitPlanner.BuildChecks(_harness.Config, _harness.Config.Options.Plans[context.Caller!.Plan], context.Caller.KeyId, "acme", "alice", null, null, default)
            .Single(c => c.Scope.Kind == ScopeKind.Key && c.Metric == Metric.Requests && c.Window == Window.Minute);
}
