namespace Tollgate.Limits;

/// <summary>
/// The agent task ids each key has used today, so one key cannot mint unlimited task ids (each with its own budget).
/// </summary>
public sealed class TaskRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (DateTime Day, HashSet<string> Tasks)> _byKey = new(StringComparer.Ordinal);

    /// <summary>Records <paramref name="task"/> for <paramref name="keyId"/>; false when the key already has <paramref name="max"/> other tasks today (UTC).</summary>
    public bool TryUse(string keyId, string task, int max, DateTimeOffset now)
    {
        var day = now.UtcDateTime.Date;
        lock (_lock)
        {
            if (!_byKey.TryGetValue(keyId, out var entry) || entry.Day != day)
            {
                entry = (day, new HashSet<string>(StringComparer.Ordinal));
                _byKey[keyId] = entry;
            }

            if (entry.Tasks.Contains(task))
            {
                return true;
            }

            if (entry.Tasks.Count >= max)
            {
                return false;
            }

            entry.Tasks.Add(task);
            return true;
        }
    }
}
