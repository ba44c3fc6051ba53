namespace Tollgate.Audit;

/// <summary>
/// The audit reasons that are not refusal codes. A refusal or failure is audited under its error code
/// (<see cref="Protocol.ErrorCodes"/>); these name the other ways a request ends.
/// </summary>
public static class AuditReasons
{
    /// <summary>Answered in full.</summary>
    public const string Ok = "ok";

    /// <summary>The caller left before the answer was complete (or before it was read).</summary>
    public const string ClientAborted = "client_aborted";

    /// <summary>The gateway failed unexpectedly.</summary>
    public const string InternalError = "internal_error";

    /// <summary>The upstream produced more output than reserved; Tollgate cut the stream.</summary>
    public const string OutputLimitExceeded = "output_limit_exceeded";

    /// <summary>A lease found at start-up: the gateway stopped abruptly while the request was in flight.</summary>
    public const string OrphanedReservation = "orphaned_reservation";

    /// <summary>Answered from the response cache (or by the identical request it waited for): no upstream call, no tokens billed.</summary>
    public const string CacheHit = "cache_hit";

    /// <summary>A background response that ended <c>failed</c> upstream (billed what the upstream reported).</summary>
    public const string BackgroundFailed = "background_failed";

    /// <summary>A background response cancelled before it ended, by its caller (billed what the upstream reported for it).</summary>
    public const string BackgroundCancelled = "background_cancelled";

    /// <summary>A background response still running when <c>Gateway:BackgroundMaxLifetime</c> ran out: cancelled by the gateway.</summary>
    public const string BackgroundExpired = "background_expired";

    /// <summary>A background response the upstream no longer knows (deleted or expired there) before the gateway learned its end.</summary>
    public const string BackgroundLost = "background_lost";
}
