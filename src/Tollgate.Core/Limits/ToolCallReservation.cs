using Tollgate.Pricing;

namespace Tollgate.Limits;

/// <summary>
/// The hosted tool calls a request's reservation covers (Responses API): at most <paramref name="Calls"/> calls, each
/// at most <paramref name="FeeMicrosPerCall"/>. <c>default</c>: none (the request offers no hosted tool).
/// </summary>
/// <param name="Calls">The most hosted tool calls the request may make: its <c>max_tool_calls</c>, else the plan's <c>MaxToolCalls</c>.</param>
/// <param name="FeeMicrosPerCall">The highest fee per call among the tools it may call, in micro-dollars.</param>
/// <param name="SendCap">Whether <paramref name="Calls"/> must be sent upstream as <c>max_tool_calls</c> (the request set none).</param>
public readonly record struct ToolCallReservation(long Calls, long FeeMicrosPerCall, bool SendCap)
{
    private const long NanosPerMicro = 1000;

    /// <summary>The reserved fees: every call at the highest fee, in nano-dollars.</summary>
    public long FeeNanos => Saturating.Multiply(Saturating.Multiply(Calls, FeeMicrosPerCall), NanosPerMicro);
}
