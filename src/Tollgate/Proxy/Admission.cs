using Tollgate.Configuration;
using Tollgate.Limits;

namespace Tollgate.Proxy;

/// <summary>What an admitted request holds: its reservation and the output cap it paid for.</summary>
internal sealed record Admission(
    Reservation Reservation,
    long OutputCap,
    string? CapField,
    bool CapChanged,
    long OutputMultiplier,
    IReadOnlyList<LimitStatus> Statuses,
    string? ShadowRefusals,
    string? Warning,
    PlanOptions Plan,
    long InputTokens,
    long WorstCostNanos)
{
    /// <summary>The most output tokens the upstream may produce in total (cap × choices).</summary>
    public long ReservedOutput => OutputCap * OutputMultiplier;
}
