using System.Collections.Concurrent;
using System.Text;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Limits;
using Tollgate.Metrics;
using Tollgate.Pipeline;
using Tollgate.Protocol;
using Tollgate.Upstreams;

namespace Tollgate.Background;

/// <summary>
/// The gateway's background responses (Responses API, <c>background: true</c>) that have not ended yet. A create call
/// that the upstream answers <c>queued</c> or <c>in_progress</c> hands its reservation over (<see cref="TrackAsync"/>):
/// it stays held — budget, tokens and the key's concurrency slot — until the response ends. Whoever first sees it
/// ended settles it, exactly once: a caller's retrieval or cancel (<see cref="ObserveAsync"/>), or the gateway's own
/// poll every <c>Gateway:BackgroundPollInterval</c>, which also cancels a response still running after
/// <c>Gateway:BackgroundMaxLifetime</c>. The lease notes the response id, so a restart holds the reservation again and
/// resumes polling (<see cref="ResumeAsync"/>) instead of billing its worst case.
/// </summary>
internal sealed partial class BackgroundResponses(
    GatewayConfigMonitor config,
    UpstreamClients upstreams,
    LedgerWriter ledger,
    ILedgerStore ledgerStore,
    IQuotaStore quotas,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<HeldReservation> heldLogger,
    ILogger<BackgroundResponses> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, BackgroundResponse> _responses = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Background responses not yet ended.</summary>
    public int Count => _responses.Count;

    /// <summary>The background response <paramref name="responseId"/> while it has not ended, or null.</summary>
    public BackgroundResponse? Find(string responseId) => _responses.GetValueOrDefault(responseId);

    /// <summary>
    /// Takes over the reservation of <paramref name="context"/>, a create call whose response <paramref name="responseId"/>
    /// runs on upstream: notes the response on the durable lease, and starts polling it.
    /// </summary>
    public async ValueTask<BackgroundResponse> TrackAsync(RequestContext context, string responseId)
    {
        var held = context.Reservation!;
        var gateway = context.Config.Options.Gateway;
        var response = new BackgroundResponse(responseId, context.RequestId, held, context.Timestamp + gateway.BackgroundMaxLifetime, Write);
        context.Background = response;
        _responses[responseId] = response;
        try
        {
            await ledgerStore.MarkBackgroundAsync(held.Admission.Reservation.Id, responseId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Still settled from the upstream by this process; only a restart before then bills it at its worst case.
            LogNotMarked(logger, context.RequestId, responseId, e);
        }

        response.StartTimer(time, gateway.BackgroundPollInterval, Poll);
        LogTracked(logger, context.RequestId, responseId);
        return response;
    }

    /// <summary>
    /// What the upstream answered to a retrieval or cancel of <paramref name="response"/>: when it shows the response
    /// ended, bills its usage and settles it (once, however many observe it; the others wait until it is settled).
    /// <paramref name="reason"/> overrides the audit reason the status gives.
    /// </summary>
    public async ValueTask ObserveAsync(BackgroundResponse response, ReadOnlyMemory<byte> body, string? reason = null)
    {
        string? status = BackgroundStatus.Read(body.Span);
        if (!BackgroundStatus.IsEnded(status))
        {
            return;
        }

        if (!response.TryClaim())
        {
            await response.Settled.ConfigureAwait(false);
            return;
        }

        var generated = new StringBuilder();
        var scan = ResponsesScanner.ScanResponse(body.Span, generated);
        response.Held.SeeToolCalls(scan);
        bool answered = status is BackgroundStatus.Completed or BackgroundStatus.Incomplete;
        if (scan.UsageIsKnown(outputExpected: true, generated.Length))
        {
            response.Held.BillReported(scan.Usage);
        }
        else
        {
            // No usage, or usage that cannot be true: counted from the text, as for any response (never billed as zero).
            response.Held.BillEstimate(generated.ToString(), flagOverrun: answered);
        }

        await EndAsync(response, reason ?? BackgroundStatus.ReasonFor(status!)).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks the upstream for <paramref name="response"/> now and settles it if it has ended; true when it has (a
    /// response that is still running cannot be deleted: its bill would be lost).
    /// </summary>
    public async Task<bool> SettleIfEndedAsync(BackgroundResponse response, CancellationToken cancellationToken)
    {
        var answer = await BackgroundUpstream.SendAsync(upstreams, config.Current, response.Held.Model, response.ResponseId, cancel: false, response.RequestId,
            cancellationToken).ConfigureAwait(false);
        if (answer.Status == 200)
        {
            await ObserveAsync(response, answer.Body).ConfigureAwait(false);
        }

        if (response.Claimed)
        {
            await response.Settled.ConfigureAwait(false);
            return true;
        }

        return false;
    }

    /// <summary>
    /// At start-up: the background responses the previous process left running, their reservations held again by
    /// <see cref="QuotaRecovery"/>. Each is polled at once and then every <c>Gateway:BackgroundPollInterval</c>, and
    /// billed once, from the upstream's usage, under its create call's record. One whose model is no longer configured
    /// cannot be asked: it is billed at its reserved worst case.
    /// </summary>
    public async Task ResumeAsync(IReadOnlyList<ResumedReservation> resumed)
    {
        var current = config.Current;
        foreach (var (lease, reservation) in resumed)
        {
            metrics.RequestStarted();
            var record = RecordOf(lease);
            var admission = new Admission(reservation, lease.Usage.OutputTokens, ResponsesRequestParser.CapField, false, 1, [], null, null, new PlanOptions(),
                lease.Usage.InputTokens, lease.CostNanos)
            {
                // The hosted tool calls reserved (every call at the highest fee), so the bill is bounded as it was.
                ToolCalls = new ToolCallReservation(lease.Usage.ToolCalls, lease.Usage.ToolCalls > 0 ? lease.ToolFeeNanos / lease.Usage.ToolCalls / 1000 : 0, false),
            };
            if (!current.TryGetModel(lease.Model, out var model) || model.UpstreamName != lease.Upstream)
            {
                await quotas.SettleAsync(reservation, new ActualUsage(lease.Usage.InputTokens, lease.Usage.OutputTokens, lease.CostNanos), time.GetUtcNow(),
                    CancellationToken.None).ConfigureAwait(false);
                var orphan = record with
                {
                    Reason = AuditReasons.OrphanedReservation,
                    Usage = lease.Usage,
                    CostNanos = lease.CostNanos,
                    ToolFeeNanos = lease.ToolFeeNanos,
                    UsageSource = Pricing.UsageSource.Reserved,
                };
                ledger.Enqueue(orphan);
                metrics.RequestEnded(orphan);
                continue;
            }

            var held = HeldReservation.Resumed(admission, ApiEndpoint.Responses, model, quotas, time, heldLogger, lease.RequestId);
            var response = new BackgroundResponse(lease.BackgroundResponseId!, lease.RequestId, held, lease.Timestamp + current.Options.Gateway.BackgroundMaxLifetime, Write);
            _responses[response.ResponseId] = response;
            response.Deliver(record);
            response.StartTimer(time, current.Options.Gateway.BackgroundPollInterval, Poll);
            LogResumed(logger, lease.RequestId, response.ResponseId);
            // It may have ended while no gateway was watching.
            _ = PollAsync(response);
        }
    }

    /// <summary>
    /// One poll of the gateway's own: retrieves the response (or, past its deadline, cancels it) and settles it when
    /// it has ended. A response the upstream no longer knows, or one still running past its deadline, is billed by the
    /// upstream's <c>UnknownOutcomes:BackgroundUnsettled</c> rule. Skipped while another poll of it is under way.
    /// </summary>
    public async Task PollAsync(BackgroundResponse response)
    {
        if (response.Claimed || !response.TryStartPoll())
        {
            return;
        }

        try
        {
            bool expired = time.GetUtcNow() >= response.Deadline;
            var answer = await BackgroundUpstream.SendAsync(upstreams, config.Current, response.Held.Model, response.ResponseId, cancel: expired,
                response.RequestId, _stopping.Token).ConfigureAwait(false);
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            string? reason = expired ? AuditReasons.BackgroundExpired : null;
            if (answer.Status == 200)
            {
                await ObserveAsync(response, answer.Body, reason).ConfigureAwait(false);
            }
            else if (answer.Status == 404)
            {
                await EndUnknownAsync(response, AuditReasons.BackgroundLost).ConfigureAwait(false);
            }

            if (expired && !response.Claimed)
            {
                await EndUnknownAsync(response, AuditReasons.BackgroundExpired).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPollFailed(logger, response.RequestId, response.ResponseId, e);
        }
        finally
        {
            response.EndPoll();
        }
    }

    /// <summary>
    /// Stops polling (the gateway is stopping): what has not ended stays held by its lease, which the next start resumes.
    /// </summary>
    public void Stop()
    {
        _stopping.Cancel();
        foreach (var response in _responses.Values)
        {
            response.StopTimer();
        }
    }

    public void Dispose()
    {
        Stop();
        _stopping.Dispose();
    }

    private void Poll(BackgroundResponse response)
    {
        if (!_stopping.IsCancellationRequested)
        {
            _ = PollAsync(response);
        }
    }

    private async Task EndUnknownAsync(BackgroundResponse response, string reason)
    {
        if (!response.TryClaim())
        {
            return;
        }

        var upstream = config.Current.Options.Upstreams.GetValueOrDefault(response.Held.Model.UpstreamName) ?? new UpstreamOptions();
        response.Held.BillUnknown(upstream, UnknownOutcome.BackgroundUnsettled, "");
        await EndAsync(response, reason).ConfigureAwait(false);
    }

    // The end's claimant: the reservation is settled to the bill, then the record (when the create's has arrived) queued.
    private async Task EndAsync(BackgroundResponse response, string reason)
    {
        response.StopTimer();
        await response.Held.SettleAsync().ConfigureAwait(false);
        _responses.TryRemove(new KeyValuePair<string, BackgroundResponse>(response.ResponseId, response));
        LogEnded(logger, response.RequestId, response.ResponseId, reason, response.Held.CostNanos);
        response.Complete(reason);
    }

    private void Write(BackgroundResponse response, AuditRecord record)
    {
        ledger.Enqueue(record);
        metrics.RequestEnded(record);
        response.MarkRecorded(record);
    }

    // The create call's record, rebuilt from its lease after a restart (the bill is added when the response ends).
    private static AuditRecord RecordOf(ReservationLease lease) =>
        lease.ToRecord(AuditReasons.Ok, status: 200) with { OutputCap = lease.Usage.OutputTokens };

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Request {RequestId}: background response {ResponseId} runs upstream; its reservation stays held until it ends")]
    private static partial void LogTracked(ILogger logger, string requestId, string responseId);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "Request {RequestId}: background response {ResponseId} ended ({Reason}), billed {CostNanos} nano-dollars")]
    private static partial void LogEnded(ILogger logger, string requestId, string responseId, string reason, long costNanos);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "Request {RequestId}: background response {ResponseId}, left running by the previous process, is polled again")]
    private static partial void LogResumed(ILogger logger, string requestId, string responseId);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Warning, Message = "Request {RequestId}: background response {ResponseId} could not be noted on its lease; a restart before it ends bills its worst case")]
    private static partial void LogNotMarked(ILogger logger, string requestId, string responseId, Exception exception);

    [LoggerMessage(EventId = 3205, Level = LogLevel.Warning, Message = "Request {RequestId}: polling background response {ResponseId} failed")]
    private static partial void LogPollFailed(ILogger logger, string requestId, string responseId, Exception exception);
}
