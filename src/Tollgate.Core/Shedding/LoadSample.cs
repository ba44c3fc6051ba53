namespace Tollgate.Shedding;

/// <summary>The gateway process's load at one moment, as an <see cref="ILoadSignal"/> last measured it.</summary>
/// <param name="CpuPercent">CPU used by the process, in percent of every core the process may use (100: all busy).</param>
/// <param name="MemoryBytes">Memory the process holds (its resident set).</param>
public readonly record struct LoadSample(int CpuPercent, long MemoryBytes);
