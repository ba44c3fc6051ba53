using System.Collections.Frozen;
using Tollgate.Protocol;

namespace Tollgate.Pricing;

/// <summary>
/// A model's fees per call of hosted tools (Responses API), in integer micro-dollars per call, by tool type
/// (<c>web_search</c>) and by the output item type its calls come back as (<c>web_search_call</c>).
/// </summary>
public sealed class ToolCallPrices
{
    private readonly FrozenDictionary<string, long> _byTool;
    private readonly FrozenDictionary<string, long> _byItem;

    private ToolCallPrices(FrozenDictionary<string, long> byTool, FrozenDictionary<string, long> byItem, long highest)
    {
        _byTool = byTool;
        _byItem = byItem;
        HighestMicros = highest;
    }

    /// <summary>No hosted tool priced.</summary>
    public static ToolCallPrices None { get; } = Create(new Dictionary<string, long>());

    /// <summary>The highest fee of any priced tool, in micro-dollars per call (0 when none is priced).</summary>
    public long HighestMicros { get; }

    /// <summary>Whether no hosted tool is priced.</summary>
    public bool IsEmpty => _byTool.Count == 0;

    /// <summary>Prices from <paramref name="microsByTool"/> (micro-dollars per call, by tool type).</summary>
    public static ToolCallPrices Create(IReadOnlyDictionary<string, long> microsByTool)
    {
        ArgumentNullException.ThrowIfNull(microsByTool);
        var byItem = new Dictionary<string, long>(StringComparer.Ordinal);
        long highest = 0;
        foreach (var (tool, micros) in microsByTool)
        {
            // Tools whose calls share an item type (web_search and web_search_preview): their calls cost the higher fee.
            string item = ResponsesTools.CallItemType(tool);
            byItem[item] = Math.Max(micros, byItem.GetValueOrDefault(item));
            highest = Math.Max(highest, micros);
        }

        return new ToolCallPrices(microsByTool.ToFrozenDictionary(StringComparer.Ordinal), byItem.ToFrozenDictionary(StringComparer.Ordinal), highest);
    }

    /// <summary>The fee per call of hosted tool <paramref name="toolType"/>, when the model prices it.</summary>
    public bool TryGetFee(string toolType, out long micros) => _byTool.TryGetValue(toolType, out micros);

    /// <summary>
    /// The fee of one output item of <paramref name="itemType"/> (a hosted tool call): its tool's fee, or the highest
    /// fee of the model for a call of a tool it does not price (a stored prompt's own tools), so a call is never free
    /// for lack of a price.
    /// </summary>
    public long FeeOfCall(string itemType) => _byItem.TryGetValue(itemType, out long micros) ? micros : HighestMicros;
}
