using System.Globalization;

namespace Tollgate.Simulator;

/// <summary>The <c>pause=K:NAME</c> directive: a stream waits at barrier gate <see cref="Gate"/> before piece <see cref="After"/>.</summary>
internal sealed record SimulatorPause(long After, string Gate)
{
    /// <summary>Reads <c>K:NAME</c>; null when K is not a count or NAME is empty.</summary>
    public static SimulatorPause? TryParse(string value)
    {
        int colon = value.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && colon < value.Length - 1
            && long.TryParse(value.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out long after)
            ? new SimulatorPause(after, value[(colon + 1)..])
            : null;
    }
}
