using System.Collections.Concurrent;

namespace Tollgate.Simulator;

/// <summary>
/// Counts the calls carrying each <c>x-client-request-id</c>, for <c>[[sim:first=N]]</c>: shared by every simulated
/// upstream of a process, so a retry or a fallback to another simulated upstream is the same request's next call.
/// Bounded: past <see cref="Capacity"/> ids it starts over.
/// </summary>
public sealed class SimulatorCallCounter
{
    private const int Capacity = 100_000;
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    /// <summary>Counts one more call of <paramref name="clientRequestId"/> and returns its number (1 for the first); 1 when there is no id.</summary>
    public int Next(string? clientRequestId)
    {
        if (clientRequestId is null)
        {
            return 1;
        }

        if (_calls.Count >= Capacity)
        {
            _calls.Clear();
        }

        return _calls.AddOrUpdate(clientRequestId, 1, static (_, n) => n + 1);
    }
}
