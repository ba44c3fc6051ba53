namespace Tollgate.Limits;

/// <summary>
/// The outcome of one atomic admission step: admitted (with the reservation and the output cap it paid for), or
/// refused with the limit that refused, what it had left, and when capacity returns. Never an exception.
/// </summary>
public sealed record AdmissionDecision
{
    /// <summary>Whether every enforced limit had room.</summary>
    public required bool Admitted { get; init; }

    /// <summary>What was reserved, to settle later. Set when admitted.</summary>
    public Reservation? Reservation { get; init; }

    /// <summary>The output cap reserved for (the requested one, or less when clamped).</summary>
    public long OutputCap { get; init; }

    /// <summary>The limit that refused. Set when refused.</summary>
    public LimitCheck? RefusedBy { get; init; }

    /// <summary>What the refusing limit had already used (settled plus reserved).</summary>
    public long Used { get; init; }

    /// <summary>The amount the request needed from the refusing limit.</summary>
    public long Requested { get; init; }

    /// <summary>How long until enough capacity returns for this request; null when it never will within the window (the request is larger than the limit).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>When enough capacity returns for this request (the refusal's instant plus <see cref="RetryAfter"/>); null when it never will.</summary>
    public DateTimeOffset? ResetsAt { get; init; }

    /// <summary>Shadow limits that would have refused.</summary>
    public IReadOnlyList<LimitCheck> ShadowRefusals { get; init; } = [];

    /// <summary>Each visible enforced limit's state: after admission, or at the refusal (nothing reserved). For response headers.</summary>
    public IReadOnlyList<LimitStatus> Statuses { get; init; } = [];

    /// <summary>Remaining capacity of the refusing limit.</summary>
    public long Remaining => RefusedBy is null ? 0 : Math.Max(0, RefusedBy.Limit - Used);

    /// <summary>
    /// The wait to ask a refused caller for: set only when capacity returns within <see cref="RefusalRetry.MaxRetryAfter"/>;
    /// null when retrying soon cannot succeed (a longer window, a budget, a request larger than the limit itself), and
    /// the caller is told not to retry. See <see cref="RefusalRetry"/>.
    /// </summary>
    public TimeSpan? SuggestedRetryAfter => RefusedBy is null ? null : RefusalRetry.SuggestedWait(RefusedBy.Window, RetryAfter);

    /// <summary>An admission: <paramref name="reservation"/> holds the request's worst case at its output cap.</summary>
    /// <param name="reservation">What the store reserved; its <see cref="Reservation.OutputCap"/> is the decision's.</param>
    /// <param name="statuses">Each visible enforced limit's state after the reservation.</param>
    /// <param name="shadowRefusals">Shadow limits that would have refused; none when null.</param>
    public static AdmissionDecision Admit(Reservation reservation, IReadOnlyList<LimitStatus> statuses, IReadOnlyList<LimitCheck>? shadowRefusals = null)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        ArgumentNullException.ThrowIfNull(statuses);
        return new AdmissionDecision
        {
            Admitted = true,
            Reservation = reservation,
            OutputCap = reservation.OutputCap,
            ShadowRefusals = shadowRefusals ?? [],
            Statuses = statuses,
        };
    }

    /// <summary>A refusal by <paramref name="refusedBy"/>; nothing was reserved.</summary>
    /// <param name="refusedBy">The limit reported to the caller.</param>
    /// <param name="used">What it had already used (settled plus reserved).</param>
    /// <param name="requested">The amount the request needed from it.</param>
    /// <param name="outputCap">The output cap the request was judged at (its least acceptable one).</param>
    /// <param name="retryAfter">How long until enough capacity returns; null when it never will within the window.</param>
    /// <param name="at">The instant of the refusal, from which <see cref="ResetsAt"/> is counted.</param>
    /// <param name="statuses">Each visible enforced limit's state at the refusal.</param>
    public static AdmissionDecision Refuse(LimitCheck refusedBy, long used, long requested, long outputCap, TimeSpan? retryAfter, DateTimeOffset at,
        IReadOnlyList<LimitStatus> statuses)
    {
        ArgumentNullException.ThrowIfNull(refusedBy);
        ArgumentNullException.ThrowIfNull(statuses);
        return new AdmissionDecision
        {
            Admitted = false,
            RefusedBy = refusedBy,
            Used = used,
            Requested = requested,
            OutputCap = outputCap,
            RetryAfter = retryAfter,
            ResetsAt = at + retryAfter,
            Statuses = statuses,
        };
    }
}

/// <summary>A limit's state right after admission, or at a refusal (a value: an admission carries one per visible limit).</summary>
/// <param name="Check">The limit.</param>
/// <param name="Remaining">What is left (after this request's reservation, when admitted).</param>
/// <param name="ResetsIn">When capacity next returns (the oldest slot expires, or the calendar period ends).</param>
/// <param name="ResetsAt">The same as an instant.</param>
public readonly record struct LimitStatus(LimitCheck Check, long Remaining, TimeSpan ResetsIn, DateTimeOffset ResetsAt);

/// <summary>What a request actually consumed, to settle a reservation with.</summary>
/// <param name="InputTokens">Input tokens billed.</param>
/// <param name="OutputTokens">Output tokens billed.</param>
/// <param name="CostNanos">Cost billed.</param>
public readonly record struct ActualUsage(long InputTokens, long OutputTokens, long CostNanos)
{
    /// <summary>The settled amount for <paramref name="metric"/> (a request always counts one; concurrency is released).</summary>
    public long For(Metric metric) => metric switch
    {
        Metric.Requests => 1,
        Metric.Tokens => Pricing.Saturating.Add(InputTokens, OutputTokens),
        Metric.InputTokens => InputTokens,
        Metric.OutputTokens => OutputTokens,
        Metric.Spend => CostNanos,
        _ => 0,
    };
}
