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
}
