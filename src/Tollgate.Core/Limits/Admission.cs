using Tollgate.Configuration;

namespace Tollgate.Limits;

/// <summary>What an admitted request holds: its reservation and the output cap it paid for.</summary>
/// <param name="Reservation">The reservation on every scope's counters.</param>
/// <param name="OutputCap">The output cap per choice the reservation covers.</param>
/// <param name="CapField">The output cap field to write upstream, or null (embeddings).</param>
/// <param name="CapChanged">Whether the cap differs from what the caller sent, so it must be rewritten.</param>
/// <param name="OutputMultiplier">Choices billed per unit of cap.</param>
/// <param name="Statuses">The caller's limits after the reservation.</param>
/// <param name="ShadowRefusals">Shadow-mode limits that would have refused, or null.</param>
/// <param name="Warning">A budget warning to pass on, or null.</param>
/// <param name="Plan">The caller's effective plan.</param>
/// <param name="InputTokens">The input tokens counted and reserved.</param>
/// <param name="WorstCostNanos">The reserved worst-case cost.</param>
public sealed record Admission(
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
    /// <summary>The hosted tool calls reserved (Responses API), at their highest fee; <c>default</c> when none.</summary>
    public ToolCallReservation ToolCalls { get; init; }

    /// <summary>The most output tokens the upstream may produce in total (cap × choices).</summary>
    public long ReservedOutput => OutputCap * OutputMultiplier;
}
