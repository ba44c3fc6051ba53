namespace Tollgate.Limits;

/// <summary>One request's consumption recorded before this process started, as <see cref="IQuotaStore.RestoreAsync"/> counts it.</summary>
/// <param name="Checks">The limits it counts against.</param>
/// <param name="Usage">What it consumed.</param>
/// <param name="At">When it happened.</param>
public readonly record struct PastUsage(IReadOnlyList<LimitCheck> Checks, ActualUsage Usage, DateTimeOffset At);
