namespace Tollgate.Caching;

/// <summary>
/// Single flight for the response cache: of concurrent requests with one key, the first leads (looks the key up and, on
/// a miss, calls the upstream); the others follow, each already admitted, and wait for the leader's answer to serve
/// it as a hit. A leader that fails publishes null, and its followers go upstream themselves. In process; thread-safe.
/// </summary>
/// <remarks>
/// A leader publishes its answer (<see cref="Publish"/>) as soon as it is complete, stores it, and only then ends the
/// flight (<see cref="End"/>): a request that arrives in between follows a completed flight and is answered at once,
/// and one that arrives after finds the answer in the store. So a stored answer is never fetched twice.
/// </remarks>
public sealed class ResponseFlights
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ResponseCacheKey, ResponseFlight> _flights = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _watchers = [];
    private int _following;

    /// <summary>Requests waiting for a leader now.</summary>
    public int Following
    {
        get
        {
            lock (_lock)
            {
                return _following;
            }
        }
    }

    /// <summary>Flights under way now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _flights.Count;
            }
        }
    }

    /// <summary>
    /// Joins the flight of <paramref name="key"/>: true when the caller leads a new one (it must <see cref="End"/> it,
    /// whatever happens), false when <paramref name="flight"/> is another request's, to <see cref="FollowAsync"/>.
    /// </summary>
    public bool TryLead(ResponseCacheKey key, out ResponseFlight flight)
    {
        lock (_lock)
        {
            if (_flights.TryGetValue(key, out var existing))
            {
                flight = existing;
                return false;
            }

            flight = new ResponseFlight(key);
            _flights.Add(key, flight);
            return true;
        }
    }

    /// <summary>Waits for the leader of <paramref name="flight"/>: its answer, or null when the follower must go upstream itself.</summary>
    public async Task<CachedAnswer?> FollowAsync(ResponseFlight flight, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flight);
        lock (_lock)
        {
            _following++;
            for (int i = _watchers.Count - 1; i >= 0; i--)
            {
                if (_watchers[i].Count <= _following)
                {
                    _watchers[i].Signal.TrySetResult();
                    _watchers.RemoveAt(i);
                }
            }
        }

        try
        {
            return await flight.Answer.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _following--;
            }
        }
    }

    /// <summary>The leader's answer is complete: its followers are answered now (the flight stays open until <see cref="End"/>).</summary>
    public static void Publish(ResponseFlight flight, CachedAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(flight);
        ArgumentNullException.ThrowIfNull(answer);
        flight.TryComplete(answer);
    }

    /// <summary>Ends the flight; if nothing was published, its followers learn that the leader failed. Only the first end counts.</summary>
    public void End(ResponseFlight flight)
    {
        ArgumentNullException.ThrowIfNull(flight);
        lock (_lock)
        {
            if (_flights.TryGetValue(flight.Key, out var current) && ReferenceEquals(current, flight))
            {
                _flights.Remove(flight.Key);
            }
        }

        flight.TryComplete(null);
    }

    /// <summary>Completes when at least <paramref name="count"/> requests wait for a leader at once (for tests and diagnostics).</summary>
    public Task WaitForFollowersAsync(int count, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_following >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _watchers.Add((count, signal));
            return signal.Task.WaitAsync(cancellationToken);
        }
    }
}
