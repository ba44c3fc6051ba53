using System.Collections.Concurrent;

namespace Tollgate.Collections;

/// <summary>
/// A concurrent map of things worked out lately, bounded by emptying it when full: cheaper than tracking recency on
/// every lookup, and what is asked for next fills it again. Its size is counted apart from the dictionary's, whose
/// <c>Count</c> takes every one of its locks (a miss would pay for that on every add).
/// </summary>
/// <remarks>
/// Adds racing at the bound may each empty it, and the count may then run a few behind what the map holds until the
/// next emptying: the bound holds within the number of concurrent adders, and nothing kept is ever wrong.
/// </remarks>
internal sealed class ClearingMap<TKey, TValue>(int capacity, IEqualityComparer<TKey>? comparer = null)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _values = new(comparer);
    private int _count;

    /// <summary>How many entries the map holds.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The value kept for <paramref name="key"/>, when there is one.</summary>
    public bool TryGetValue(TKey key, out TValue value) => _values.TryGetValue(key, out value!);

    /// <summary>Looks entries up by another form of the key (a span for a string), without making a key.</summary>
    public ConcurrentDictionary<TKey, TValue>.AlternateLookup<TAlternate> GetAlternateLookup<TAlternate>()
        where TAlternate : notnull, allows ref struct => _values.GetAlternateLookup<TAlternate>();

    /// <summary>Keeps <paramref name="value"/> for <paramref name="key"/>, first emptying the map when it is full.</summary>
    public void Set(TKey key, TValue value)
    {
        if (Volatile.Read(ref _count) >= capacity)
        {
            _values.Clear();
            Volatile.Write(ref _count, 0);
        }

        if (_values.TryAdd(key, value))
        {
            Interlocked.Increment(ref _count);
        }
        else
        {
            _values[key] = value;
        }
    }
}
