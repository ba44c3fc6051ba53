namespace Tollgate.Configuration;

/// <summary>
/// How a request is billed when the gateway cannot know what the upstream billed: one rule per kind of unknown
/// outcome, each <c>reservation</c> (the request's reserved worst case), <c>estimate</c> (the input counted from the
/// request plus the output counted from whatever arrived) or <c>none</c> (nothing; allowed only where no response
/// byte arrived). The defaults err on the side of the budget.
/// </summary>
public sealed class UnknownOutcomeOptions
{
    /// <summary>The connection could not be opened (refused, unreachable, connect timeout): the request never left.</summary>
    public string ConnectFailure { get; set; } = BillingRules.None;

    /// <summary>The request was sent and no response header arrived within <c>ResponseTimeout</c>.</summary>
    public string TimeoutBeforeHeaders { get; set; } = BillingRules.Reservation;

    /// <summary>The request was sent and the connection was reset or closed before the response headers.</summary>
    public string ResetBeforeHeaders { get; set; } = BillingRules.Reservation;

    /// <summary>A 200 whose body is not valid JSON, or ended before it was complete.</summary>
    public string InvalidBody { get; set; } = BillingRules.Estimate;

    /// <summary>A stream that ended or was cut without the upstream's usage.</summary>
    public string StreamCutWithoutUsage { get; set; } = BillingRules.Estimate;

    /// <summary>
    /// A background response (Responses API) whose end the gateway could not learn: still unfinished when
    /// <c>Gateway:BackgroundMaxLifetime</c> ran out (and its cancel reported no usage), or no longer known upstream.
    /// </summary>
    public string BackgroundUnsettled { get; set; } = BillingRules.Reservation;

    /// <summary>The rule for <paramref name="outcome"/>.</summary>
    public string RuleFor(UnknownOutcome outcome) => outcome switch
    {
        UnknownOutcome.ConnectFailure => ConnectFailure,
        UnknownOutcome.TimeoutBeforeHeaders => TimeoutBeforeHeaders,
        UnknownOutcome.ResetBeforeHeaders => ResetBeforeHeaders,
        UnknownOutcome.InvalidBody => InvalidBody,
        UnknownOutcome.BackgroundUnsettled => BackgroundUnsettled,
        _ => StreamCutWithoutUsage,
    };
}

/// <summary>The kinds of upstream outcome whose billing the gateway cannot read from the upstream.</summary>
public enum UnknownOutcome
{
    /// <summary>See <see cref="UnknownOutcomeOptions.ConnectFailure"/>.</summary>
    ConnectFailure,

    /// <summary>See <see cref="UnknownOutcomeOptions.TimeoutBeforeHeaders"/>.</summary>
    TimeoutBeforeHeaders,

    /// <summary>See <see cref="UnknownOutcomeOptions.ResetBeforeHeaders"/>.</summary>
    ResetBeforeHeaders,

    /// <summary>See <see cref="UnknownOutcomeOptions.InvalidBody"/>.</summary>
    InvalidBody,

    /// <summary>See <see cref="UnknownOutcomeOptions.StreamCutWithoutUsage"/>.</summary>
    StreamCutWithoutUsage,

    /// <summary>See <see cref="UnknownOutcomeOptions.BackgroundUnsettled"/>.</summary>
    BackgroundUnsettled,
}

/// <summary>Valid billing rules for an unknown outcome.</summary>
public static class BillingRules
{
    /// <summary>Bill the reserved worst case.</summary>
    public const string Reservation = "reservation";

    /// <summary>Bill the counted input plus the counted output that arrived (at most the reservation).</summary>
    public const string Estimate = "estimate";

    /// <summary>Bill nothing.</summary>
    public const string None = "none";

    /// <summary>The audit name of an outcome, e.g. <c>timeout_before_headers</c>.</summary>
    public static string Name(UnknownOutcome outcome) => outcome switch
    {
        UnknownOutcome.ConnectFailure => "connect_failure",
        UnknownOutcome.TimeoutBeforeHeaders => "timeout_before_headers",
        UnknownOutcome.ResetBeforeHeaders => "reset_before_headers",
        UnknownOutcome.InvalidBody => "invalid_body",
        UnknownOutcome.BackgroundUnsettled => "background_unsettled",
        _ => "stream_cut_without_usage",
    };

    /// <summary>Whether no response byte can have arrived in <paramref name="outcome"/> (so <see cref="None"/> is allowed).</summary>
    public static bool NothingArrived(UnknownOutcome outcome) =>
        outcome is UnknownOutcome.ConnectFailure or UnknownOutcome.TimeoutBeforeHeaders or UnknownOutcome.ResetBeforeHeaders;
}
