using Tollgate.Configuration;

namespace Tollgate.Caching;

/// <summary>
/// The response cache in process memory: a least-recently-used list bounded by <see cref="CacheOptions.MaxEntries"/>
/// and <see cref="CacheOptions.MaxBytes"/> (read at every write, so a reload applies to the next one), each entry
/// served until its expiry. One lock, held for a dictionary lookup and a list move, no I/O. Thread-safe.
/// </summary>
public sealed class InMemoryResponseCache : IResponseCache
{
    /// <summary>Bytes counted per entry beyond its body: the key, the list node and the entry itself.</summary>
    public const int EntryOverhead = 128;

    private readonly Func<CacheOptions> _options;
    private readonly Lock _lock = new();
    private readonly Dictionary<ResponseCacheKey, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = new();
    private long _bytes;

    /// <summary>A store with the default bounds.</summary>
    public InMemoryResponseCache()
        : this(static () => new CacheOptions())
    {
    }

    /// <summary>A store whose bounds are read from <paramref name="options"/> at every write.</summary>
    /// <param name="options">The current cache options.</param>
    public InMemoryResponseCache(Func<CacheOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Entries held now (expired ones included until they are looked up or evicted).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Bytes counted against <see cref="CacheOptions.MaxBytes"/> now.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<CachedAnswer?> GetAsync(ResponseCacheKey key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return ValueTask.FromResult<CachedAnswer?>(null);
            }

            if (now >= node.Value.ExpiresAt)
            {
                Remove(node);
                return ValueTask.FromResult<CachedAnswer?>(null);
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return ValueTask.FromResult<CachedAnswer?>(node.Value.Answer);
        }
    }

    /// <inheritdoc />
    public ValueTask SetAsync(ResponseCacheKey key, CachedAnswer answer, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var options = _options();
        long size = (long)answer.Size + EntryOverhead;
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                Remove(existing);
            }

            if (expiresAt <= now || size > options.MaxBytes || options.MaxEntries < 1)
            {
                return ValueTask.CompletedTask;
            }

            var node = _recency.AddFirst(new Entry(key, answer, expiresAt, size));
            _entries.Add(key, node);
            _bytes += size;
            while (_entries.Count > options.MaxEntries || _bytes > options.MaxBytes)
            {
                Remove(_recency.Last!);
            }
        }

        return ValueTask.CompletedTask;
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
    }

    private sealed record Entry(ResponseCacheKey Key, CachedAnswer Answer, DateTimeOffset ExpiresAt, long Size);
}
