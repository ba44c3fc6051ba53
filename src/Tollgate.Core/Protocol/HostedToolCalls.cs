namespace Tollgate.Protocol;

/// <summary>
/// Hosted tool calls found in a Responses API answer, counted by output item type (<c>web_search_call</c>,
/// <c>file_search_call</c>, …): what the provider charges a fee per call for.
/// </summary>
public sealed class HostedToolCalls
{
    private readonly Dictionary<string, long> _byItemType = new(StringComparer.Ordinal);

    /// <summary>The counts by output item type, in the order first seen.</summary>
    public IReadOnlyDictionary<string, long> ByItemType => _byItemType;

    /// <summary>All calls.</summary>
    public long Total { get; private set; }

    /// <summary>Counts one call of <paramref name="itemType"/>.</summary>
    public void Add(string itemType)
    {
        ArgumentNullException.ThrowIfNull(itemType);
        _byItemType[itemType] = _byItemType.GetValueOrDefault(itemType) + 1;
        Total++;
    }

    /// <summary>
    /// Per item type, the larger of the two counts: the calls a final response lists and those its stream announced
    /// one by one are the same calls, and neither may be lost when the other is cut short.
    /// </summary>
    public static HostedToolCalls? Larger(HostedToolCalls? a, HostedToolCalls? b)
    {
        if (a is null || b is null)
        {
            return a ?? b;
        }

        var larger = new HostedToolCalls();
        foreach (var (type, count) in a._byItemType)
        {
            larger.Set(type, Math.Max(count, b._byItemType.GetValueOrDefault(type)));
        }

        foreach (var (type, count) in b._byItemType)
        {
            if (!a._byItemType.ContainsKey(type))
            {
                larger.Set(type, count);
            }
        }

        return larger;
    }

    private void Set(string itemType, long count)
    {
        _byItemType[itemType] = count;
        Total += count;
    }
}
