namespace Tollgate.Configuration;

/// <summary>The audit ledger.</summary>
public sealed class LedgerOptions
{
    /// <summary>
    /// How often buffered audit records are written. A crash (kill -9) loses at most the records of the requests
    /// that finished within this window.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

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
