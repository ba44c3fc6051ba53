using Tollgate.Audit;
using Tollgate.Pipeline;

namespace Tollgate.Background;

/// <summary>
/// One background response (Responses API) between its create call and its end: it owns the create's reservation
/// (<see cref="HeldReservation"/>, not settled when the create call returned, so the caller's budget and concurrency
/// stay held) and the create's audit record, which is written once, when the response has ended and been billed. Its
/// end is claimed exactly once, whoever learns it first: a caller's poll, its cancel, or the gateway's own poll.
/// </summary>
internal sealed class BackgroundResponse
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<AuditRecord> _recorded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private AuditRecord? _pending;
    private string? _reason;
    private int _claimed;
    private int _polling;
    private readonly Action<BackgroundResponse, AuditRecord> _write;
    private ITimer? _timer;
    private TaskCompletionSource _pollEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Tracks response <paramref name="responseId"/>; <paramref name="write"/> queues its final record (once).</summary>
    public BackgroundResponse(string responseId, string requestId, HeldReservation held, DateTimeOffset deadline, Action<BackgroundResponse, AuditRecord> write)
    {
        _write = write;
        ResponseId = responseId;
        RequestId = requestId;
        Held = held;
        Deadline = deadline;
    }

    /// <summary>The upstream's id of the response.</summary>
    public string ResponseId { get; }

    /// <summary>The create call's request id (its audit record's, and the <c>x-client-request-id</c> of the gateway's polls).</summary>
    public string RequestId { get; }

    /// <summary>The owner of the create's reservation.</summary>
    public HeldReservation Held { get; }

    /// <summary>When the gateway stops waiting for the response to end: it cancels it and bills what it can learn.</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>Whether its end has been claimed (it is being, or has been, billed).</summary>
    public bool Claimed => Volatile.Read(ref _claimed) != 0;

    /// <summary>Completes once the reservation has been settled to the bill.</summary>
    public Task Settled => _settled.Task;

    /// <summary>Completes with the audit record once it is queued to the ledger.</summary>
    public Task<AuditRecord> Recorded => _recorded.Task;

    /// <summary>Claims the end: true for exactly one caller, which must bill, settle and <see cref="Complete"/> it.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    /// <summary>Claims the right to poll the upstream now: false while another poll of the gateway's is under way.</summary>
    public bool TryStartPoll() => Interlocked.Exchange(ref _polling, 1) == 0;

    public void EndPoll()
    {
        var ended = Interlocked.Exchange(ref _pollEnded, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        Volatile.Write(ref _polling, 0);
        ended.TrySetResult();
    }

    /// <summary>Completes when the gateway's next poll of it (one that starts after this is read) has ended.</summary>
    public Task NextPollEnded => Volatile.Read(ref _pollEnded).Task;

    /// <summary>Starts the gateway's own polling timer (stopped when the response ends or the gateway stops).</summary>
    public void StartTimer(TimeProvider time, TimeSpan interval, Action<BackgroundResponse> poll)
    {
        var timer = time.CreateTimer(static state =>
        {
            var (response, poll) = ((BackgroundResponse, Action<BackgroundResponse>))state!;
            poll(response);
        }, (this, poll), interval, interval);
        lock (_lock)
        {
            if (Claimed)
            {
                timer.Dispose();
                return;
            }

            _timer = timer;
        }
    }

    public void StopTimer()
    {
        ITimer? timer;
        lock (_lock)
        {
            timer = _timer;
            _timer = null;
        }

        timer?.Dispose();
    }

    /// <summary>
    /// The create call's audit record, as its request ended (before the bill, with none yet). Written, with the bill,
    /// by whichever comes second: this or <see cref="Complete"/>.
    /// </summary>
    public void Deliver(AuditRecord pending)
    {
        AuditRecord? record;
        lock (_lock)
        {
            _pending = pending;
            record = _reason is null ? null : Finish();
        }

        if (record is not null)
        {
            _write(this, record);
        }
    }

    /// <summary>The reservation has been billed and settled, under audit reason <paramref name="reason"/>.</summary>
    public void Complete(string reason)
    {
        _settled.TrySetResult();
        AuditRecord? record;
        lock (_lock)
        {
            _reason = reason;
            record = _pending is null ? null : Finish();
        }

        if (record is not null)
        {
            _write(this, record);
        }
    }

    /// <summary>Marks the record as queued (for those waiting on <see cref="Recorded"/>).</summary>
    public void MarkRecorded(AuditRecord record) => _recorded.TrySetResult(record);

    // The create's record with the bill: usage, cost and how they were made, and how the response ended.
    private AuditRecord Finish()
    {
        var held = Held;
        var record = _pending!;
        _pending = null;
        var usage = held.Usage;
        long cost = held.CostNanos;
        long toolFee = held.ToolFeeNanos;
        var attempts = record.Attempts;
        if (attempts is not null)
        {
            // Earlier attempts (a retry, a fallback) were billed when they ended; this one's bill joins the sums now.
            attempts = [.. attempts.Select(a => a.ReservationId == held.Admission.Reservation.Id ? a with { Usage = held.Usage, CostNanos = held.CostNanos, ToolFeeNanos = held.ToolFeeNanos } : a)];
            usage = default;
            cost = 0;
            toolFee = 0;
            foreach (var attempt in attempts)
            {
                usage = usage.Plus(attempt.Usage);
                cost = Pricing.Saturating.Add(cost, attempt.CostNanos);
                toolFee = Pricing.Saturating.Add(toolFee, attempt.ToolFeeNanos);
            }
        }

        return record with
        {
            Reason = _reason!,
            Attempts = attempts,
            Usage = usage,
            CostNanos = cost,
            ToolFeeNanos = toolFee,
            UsageSource = held.Source,
            Overshoot = held.Overshoot,
            ReportedInputTokens = held.Reported?.InputTokens,
            ReportedOutputTokens = held.Reported?.OutputTokens,
            UsageClamped = held.Clamped,
            BillingRule = held.Rule,
        };
    }
}
