using Tollgate.Protocol;

namespace Tollgate.Pricing;

/// <summary>The hosted tool calls of a bill and their fees (the bill's part beside the tokens).</summary>
/// <param name="Calls">The calls billed.</param>
/// <param name="FeeNanos">Their fees, in nano-dollars (exact: fees are whole micro-dollars per call).</param>
/// <param name="Clamped">Whether more calls were reported than the request could make, and only that many were billed.</param>
public readonly record struct ToolCallBill(long Calls, long FeeNanos, bool Clamped)
{
    private const long NanosPerMicro = 1000;

    /// <summary>
    /// The bill of <paramref name="calls"/>: each call at its tool's fee (<see cref="ToolCallPrices.FeeOfCall"/>), at
    /// most <paramref name="bound"/> calls (the <c>max_tool_calls</c> the upstream was given) — beyond it a report is
    /// broken, not a charge — the dearest calls first, so clamping never lowers the bill below what the calls allowed cost.
    /// </summary>
    public static ToolCallBill For(HostedToolCalls? calls, ToolCallPrices prices, long bound)
    {
        ArgumentNullException.ThrowIfNull(prices);
        if (calls is null || calls.Total == 0)
        {
            return default;
        }

        var byFee = new List<(long Fee, long Count)>(calls.ByItemType.Count);
        foreach (var (type, count) in calls.ByItemType)
        {
            byFee.Add((prices.FeeOfCall(type), count));
        }

        byFee.Sort(static (a, b) => b.Fee.CompareTo(a.Fee));
        long left = Math.Max(0, bound);
        long billed = 0;
        long micros = 0;
        foreach (var (fee, count) in byFee)
        {
            long n = Math.Min(count, left);
            left -= n;
            billed += n;
            micros = Saturating.Add(micros, Saturating.Multiply(n, fee));
        }

        return new ToolCallBill(billed, Saturating.Multiply(micros, NanosPerMicro), billed < calls.Total);
    }
}
