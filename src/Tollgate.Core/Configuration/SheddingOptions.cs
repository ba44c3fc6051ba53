namespace Tollgate.Configuration;

/// <summary>
/// Load thresholds of the gateway process (<c>Gateway:Shedding</c>). While one is reached, the gateway hands out no
/// new concurrency slot: a request that ends passes its slot to the next waiter, and arrivals wait in the queue (or
/// get 503 <c>overloaded</c> when it is full or their wait runs out). Unset: not watched.
/// </summary>
public sealed class SheddingOptions
{
    /// <summary>CPU used by the process, in percent of every core it may use (1 – 100).</summary>
    public int? CpuPercent { get; set; }

    /// <summary>Memory held by the process (its resident set), in bytes (at least 16 MiB).</summary>
    public long? MemoryBytes { get; set; }
}
