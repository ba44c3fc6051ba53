using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Limits;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Proxy;
using Tollgate.Tokenization;

namespace Tollgate.Pipeline;

/// <summary>
/// The one owner of an admitted request's reservation, for its whole life: it writes the durable lease, holds the
/// bill (the upstream's usage when it is well formed and possible, Tollgate's own count when it is missing or
/// malformed, the upstream's rule when the outcome is unknown), and ends the reservation exactly once — settled to
/// the bill, or released when the request turned out not to run — whichever way the request ends.
/// </summary>
internal sealed partial class HeldReservation : IAsyncDisposable
{
    private readonly IQuotaStore _quotas;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _requestId;
    private readonly ApiEndpoint _endpoint;
    private readonly long _outputMultiplier;
    private readonly long _inputItems;
    private int _ended;
    private HostedToolCalls? _listedCalls;
    private HostedToolCalls? _streamedCalls;

    public HeldReservation(Admission admission, ModelRequest request, ModelDefinition model, IQuotaStore quotas, TimeProvider time, ILogger logger, string requestId)
        : this(admission, request.Endpoint, request.OutputMultiplier, InputItems(request), model, quotas, time, logger, requestId)
    {
    }

    private HeldReservation(Admission admission, ApiEndpoint endpoint, long outputMultiplier, long inputItems, ModelDefinition model, IQuotaStore quotas,
        TimeProvider time, ILogger logger, string requestId)
    {
        Admission = admission;
        _endpoint = endpoint;
        _outputMultiplier = outputMultiplier;
        _inputItems = inputItems;
        Model = model;
        _quotas = quotas;
        _time = time;
        _logger = logger;
        _requestId = requestId;
    }

    /// <summary>
    /// The owner of a background response's reservation held again after a restart (its request body is gone: one
    /// input item, one choice), to bill and settle it once the upstream reports its end.
    /// </summary>
    public static HeldReservation Resumed(Admission admission, ApiEndpoint endpoint, ModelDefinition model, IQuotaStore quotas, TimeProvider time, ILogger logger,
        string requestId) => new(admission, endpoint, 1, 1, model, quotas, time, logger, requestId);

    public Admission Admission { get; }

    public ModelDefinition Model { get; }

    /// <summary>The billed usage (zero until billed: the upstream billed nothing).</summary>
    public TokenUsage Usage { get; private set; }

    public UsageSource Source { get; private set; }

    /// <summary>The cost in nano-dollars: the tokens' and the hosted tool calls' fees (<see cref="ToolFeeNanos"/>).</summary>
    public long CostNanos { get; private set; }

    /// <summary>The part of <see cref="CostNanos"/> that is hosted tool call fees (<see cref="TokenUsage.ToolCalls"/> calls).</summary>
    public long ToolFeeNanos { get; private set; }

    /// <summary>Whether the upstream produced more than was reserved (billed as reported, or cut).</summary>
    public bool Overshoot { get; set; }

    /// <summary>The upstream's own well-formed usage, when it reported one (kept beside the billed figures).</summary>
    public TokenUsage? Reported { get; private set; }

    /// <summary>Whether the reported usage was clamped to what the request can produce.</summary>
    public bool Clamped { get; private set; }

    /// <summary>The unknown-outcome rule that made the bill, e.g. <c>timeout_before_headers:reservation</c>.</summary>
    public string? Rule { get; private set; }

    /// <summary>The unknown outcome that made the bill, when one did (e.g. a connect failure).</summary>
    public UnknownOutcome? Outcome { get; private set; }

    /// <summary>Whether the reservation has been settled or released.</summary>
    public bool Ended => Volatile.Read(ref _ended) != 0;

    /// <summary>
    /// Makes the reservation durable before the upstream is called: if the gateway dies mid-request, the next start
    /// bills it at its reserved worst case instead of forgetting spend that may have happened. When the lease cannot
    /// be written the reservation is released (the request consumes nothing) and the refusal is returned.
    /// </summary>
    public async ValueTask<GatewayError?> LeaseAsync(ILedgerStore store, LedgerWriter ledger, ReservationLease lease)
    {
        try
        {
            await store.AddLeaseAsync(lease, CancellationToken.None).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogLeaseFailed(_logger, _requestId, e);
            ledger.ReportWriteFailure(e);
            await ReleaseAsync().ConfigureAwait(false);
            return new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.LedgerUnavailable,
                "The gateway cannot record usage right now, so it is not accepting requests. Retry shortly.") { RetryAfter = TimeSpan.FromSeconds(1) };
        }
    }

    /// <summary>
    /// Notes the hosted tool calls <paramref name="scan"/> shows (Responses API): the calls a response's output lists,
    /// and those a stream announces one by one; the bill counts, per tool, the larger of the two.
    /// </summary>
    public void SeeToolCalls(in ResponseScan scan)
    {
        if (scan.ToolCalls is { } listed)
        {
            _listedCalls = listed;
        }

        if (scan.ToolCallItem is { } item)
        {
            (_streamedCalls ??= new HostedToolCalls()).Add(item);
        }
    }

    /// <summary>Bills usage the upstream reported, clamped to what the request can produce.</summary>
    public void BillReported(in TokenUsage reported)
    {
        var billed = Bounds().Clamp(reported, out bool clamped);
        Reported = reported;
        Rule = null;
        Bill(billed, UsageSource.Reported);
        Clamped |= clamped;
        if (clamped)
        {
            Overshoot = true;
            LogUsageClamped(_logger, _requestId, Model.Name, reported.InputTokens, reported.OutputTokens, billed.InputTokens, billed.OutputTokens);
        }

        if (billed.InputTokens > Admission.InputTokens
            || (_endpoint != ApiEndpoint.Embeddings && billed.OutputTokens > Admission.ReservedOutput))
        {
            // Below the physical bound an overrun is billed as reported, flagged, and counted as overshoot.
            Overshoot = true;
        }
    }

    /// <summary>
    /// Bills Tollgate's own count: the input as admitted, the output counted from <paramref name="generated"/>, at
    /// most the reserved output. <paramref name="flagOverrun"/>: whether an estimate above the reservation means the
    /// upstream overran (true when <paramref name="generated"/> is the answer's text, false for a broken body).
    /// </summary>
    public void BillEstimate(string generated, bool flagOverrun)
    {
        long output = _endpoint == ApiEndpoint.Embeddings ? 0 : UsageEstimator.CountOutput(Model, generated);
        if (output > Admission.ReservedOutput)
        {
            output = Admission.ReservedOutput;
            Overshoot |= flagOverrun;
        }

        Bill(new TokenUsage(Admission.InputTokens, 0, output, 0), UsageSource.Estimated);
    }

    /// <summary>Bills an unknown outcome by its upstream's rule, and records the rule.</summary>
    public void BillUnknown(UpstreamOptions upstream, UnknownOutcome outcome, string arrived)
    {
        string rule = upstream.UnknownOutcomes.RuleFor(outcome);
        Outcome = outcome;
        Rule = BillingRules.Name(outcome) + ":" + rule;
        switch (rule)
        {
            case BillingRules.Reservation:
                Usage = new TokenUsage(Admission.InputTokens, 0, Admission.ReservedOutput, 0) { ToolCalls = Admission.ToolCalls.Calls };
                Source = UsageSource.Reserved;
                ToolFeeNanos = Admission.ToolCalls.FeeNanos;
                CostNanos = Admission.WorstCostNanos;
                break;
            case BillingRules.Estimate:
                BillEstimate(arrived, flagOverrun: outcome == UnknownOutcome.StreamCutWithoutUsage);
                break;
            default:
                Bill(default, UsageSource.None);
                break;
        }
    }

    /// <summary>
    /// Bills a response cache hit: no tokens (a hit consumes none of the caller's token allowances) and
    /// <paramref name="costNanos"/>, the hit's price; the stored answer's own usage is kept beside it as reported.
    /// </summary>
    public void BillCacheHit(in TokenUsage stored, long costNanos)
    {
        Reported = stored;
        Clamped = false;
        Rule = null;
        Usage = default;
        Source = UsageSource.None;
        ToolFeeNanos = 0;
        CostNanos = costNanos;
    }

    /// <summary>
    /// Settles the reservation to the bill (zero when nothing was billed). Only the first end counts; not cancellable,
    /// since it must happen however the request ended.
    /// </summary>
    public ValueTask SettleAsync() => Interlocked.Exchange(ref _ended, 1) == 0
        ? _quotas.SettleAsync(Admission.Reservation, new ActualUsage(Usage.InputTokens, Usage.OutputTokens, CostNanos), _time.GetUtcNow(), CancellationToken.None)
        : ValueTask.CompletedTask;

    /// <summary>Undoes the reservation entirely: the request did not run. Only the first end counts.</summary>
    public ValueTask ReleaseAsync() => Interlocked.Exchange(ref _ended, 1) == 0
        ? _quotas.ReleaseAsync(Admission.Reservation, CancellationToken.None)
        : ValueTask.CompletedTask;

    /// <summary>Settles, unless already ended.</summary>
    public ValueTask DisposeAsync() => SettleAsync();

    // The tokens at the model's prices, and the hosted tool calls seen at their fees: at most the calls the upstream
    // was allowed (max_tool_calls), and flagged when their fees pass what was reserved.
    private void Bill(TokenUsage usage, UsageSource source)
    {
        var tools = default(ToolCallBill);
        if (_listedCalls is not null || _streamedCalls is not null)
        {
            long bound = Admission.ToolCalls.Calls > 0 ? Admission.ToolCalls.Calls : Admission.Plan.MaxToolCalls;
            tools = ToolCallBill.For(HostedToolCalls.Larger(_listedCalls, _streamedCalls), Model.ToolCallPrices, bound);
            Overshoot |= tools.Clamped || tools.FeeNanos > Admission.ToolCalls.FeeNanos;
        }

        // More calls reported than the request could make is a clamp like too many tokens.
        Clamped = tools.Clamped;
        Usage = usage with { ToolCalls = tools.Calls };
        Source = source;
        ToolFeeNanos = tools.FeeNanos;
        CostNanos = Saturating.Add(Model.Price.CostNanos(usage), tools.FeeNanos);
    }

    /// <summary>The most a request can consume: the context window per input item, the maximum output per choice.</summary>
    private UsageBounds Bounds() =>
        new(Saturating.Multiply(Model.ContextWindow, _inputItems), Saturating.Multiply(Model.MaxOutputTokens, _outputMultiplier));

    // The input items an embeddings request embeds (each may fill the context window); one for any other request.
    private static long InputItems(ModelRequest request)
    {
        if (request.Endpoint == ApiEndpoint.Embeddings && request.Document.RootElement.TryGetProperty("input", out var input)
            && input.ValueKind == System.Text.Json.JsonValueKind.Array && input.GetArrayLength() > 0
            && input[0].ValueKind is System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Array)
        {
            return input.GetArrayLength();
        }

        return 1;
    }

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Request {RequestId}: the reservation lease could not be written")]
    private static partial void LogLeaseFailed(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "Request {RequestId}: the upstream for {Model} reported {ReportedInput} input and {ReportedOutput} output tokens, more than the request can produce; billed {BilledInput} and {BilledOutput}")]
    private static partial void LogUsageClamped(ILogger logger, string requestId, string model, long reportedInput, long reportedOutput, long billedInput, long billedOutput);
}
