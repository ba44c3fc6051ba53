namespace Tollgate.Configuration;

/// <summary>The audit ledger.</summary>
public sealed class LedgerOptions
{
    /// <summary>
    /// How often buffered audit records are written. A crash (kill -9) loses at most the records of the requests
    /// that finished within this window.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long a write to the SQLite file waits for another process's lock before it fails. A failed write turns
    /// readiness off (and refuses requests with 503 <c>ledger_unavailable</c>) until a probe write succeeds.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>While the ledger is unavailable, how often a probe write checks whether it can be written again.</summary>
    public TimeSpan ReadinessProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most records written in one transaction.</summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>
    /// Most records waiting to be written. When the ledger cannot keep up (or cannot write at all) new requests
    /// get 503 <c>ledger_unavailable</c> instead of running unrecorded.
    /// </summary>
    public int MaxPendingRecords { get; set; } = 100_000;

    /// <summary>Records older than this are deleted; zero keeps them forever.</summary>
    public int RetentionDays { get; set; } = 400;
}
