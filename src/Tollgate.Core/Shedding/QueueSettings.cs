using Tollgate.Configuration;

namespace Tollgate.Shedding;

/// <summary>What <see cref="FairScheduler"/> enforces, compiled from a configuration (<see cref="From"/>); a reload replaces it whole.</summary>
/// <param name="Capacity">Requests that may hold a slot at once (<c>Global:MaxConcurrentRequests</c>); <see cref="int.MaxValue"/>: no limit.</param>
/// <param name="QueueLength">Requests that may wait for a slot at once (<c>Gateway:QueueLength</c>); 0: none wait.</param>
/// <param name="MaxWait">The longest a request waits for a slot (<c>Gateway:MaxQueueWait</c>).</param>
/// <param name="CpuPercent">The process CPU share at which the queue stops handing out new slots; null: not watched.</param>
/// <param name="MemoryBytes">The process memory at which the queue stops handing out new slots; null: not watched.</param>
public sealed record QueueSettings(int Capacity, int QueueLength, TimeSpan MaxWait, int? CpuPercent = null, long? MemoryBytes = null)
{
    /// <summary>No concurrency limit, no queue, no thresholds: every request gets a slot at once.</summary>
    public static QueueSettings Unlimited { get; } = new(int.MaxValue, 0, TimeSpan.FromSeconds(10));

    /// <summary>Whether a load threshold is set, so the load signal must be read.</summary>
    public bool WatchesLoad => CpuPercent is not null || MemoryBytes is not null;

    /// <summary>Whether <paramref name="sample"/> reaches a threshold.</summary>
    public bool IsOverloaded(LoadSample sample) =>
        (CpuPercent is { } cpu && sample.CpuPercent >= cpu) || (MemoryBytes is { } memory && sample.MemoryBytes >= memory);

    /// <summary>
    /// The settings of <paramref name="options"/>: the capacity is <c>Global:MaxConcurrentRequests</c>, unless that
    /// limit runs in shadow mode (then the quota store counts it and nothing waits for it).
    /// </summary>
    public static QueueSettings From(TollgateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var global = options.Global;
        var gateway = options.Gateway;
        int capacity = global.MaxConcurrentRequests is { } max && !IsShadowed(global) ? max : int.MaxValue;
        return new QueueSettings(capacity, gateway.QueueLength, gateway.MaxQueueWait, gateway.Shedding.CpuPercent, gateway.Shedding.MemoryBytes);
    }

    /// <summary>Whether the gateway's concurrency limit runs in shadow mode (counted by the quota store, never enforced).</summary>
    public static bool IsShadowed(GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(global);
        return global.Shadow.Contains(nameof(LimitsOptions.MaxConcurrentRequests));
    }
}
