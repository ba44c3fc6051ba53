namespace Tollgate.Shedding;

/// <summary>The per-tenant lines and the round that serves them (deficit round robin). Everything here runs under the lock.</summary>
public sealed partial class FairScheduler
{
    private readonly Dictionary<string, TenantLine> _lines = new(StringComparer.Ordinal);

    // The round: the tenants with waiters, in the order they are served; the first is served next.
    private TenantLine? _first;
    private TenantLine? _last;

    /// <summary>Requests of <paramref name="tenant"/> waiting now.</summary>
    public int WaitingFor(string tenant)
    {
        lock (_lock)
        {
            return _lines.TryGetValue(tenant, out var line) ? line.Count : 0;
        }
    }

    private void Enqueue(Waiter waiter, string tenant, int weight)
    {
        if (!_lines.TryGetValue(tenant, out var line))
        {
            line = new TenantLine(tenant);
            _lines.Add(tenant, line);
            JoinRound(line);
        }

        // The weight of the configuration the newest request runs under: a reload applies from the next arrival.
        line.Weight = weight;
        line.Deficit = Math.Min(line.Deficit, weight);
        waiter.Line = line;
        waiter.Previous = line.Newest;
        if (line.Newest is { } newest)
        {
            newest.Next = waiter;
        }
        else
        {
            line.Oldest = waiter;
        }

        line.Newest = waiter;
        line.Count++;
        waiter.IsQueued = true;
        Interlocked.Increment(ref _waiting);
    }

    private void Remove(Waiter waiter)
    {
        var line = waiter.Line!;
        if (waiter.Previous is { } previous)
        {
            previous.Next = waiter.Next;
        }
        else
        {
            line.Oldest = waiter.Next;
        }

        if (waiter.Next is { } next)
        {
            next.Previous = waiter.Previous;
        }
        else
        {
            line.Newest = waiter.Previous;
        }

        waiter.Previous = waiter.Next = null;
        waiter.IsQueued = false;
        line.Count--;
        Interlocked.Decrement(ref _waiting);
        if (line.Count == 0)
        {
            // An emptied line leaves the round and keeps no credit.
            LeaveRound(line);
            _lines.Remove(line.Tenant);
        }
    }

    // The waiter to serve next: the oldest of the tenant at the head of the round. Each turn of a tenant serves up to
    // its weight, then it goes to the back of the round. The caller removes the waiter returned.
    private Waiter NextFair()
    {
        var line = _first!;
        if (line.Deficit == 0)
        {
            line.Deficit = line.Weight;
        }

        line.Deficit--;
        var waiter = line.Oldest!;
        if (line.Deficit == 0 && line.Count > 1 && line != _last)
        {
            LeaveRound(line);
            JoinRound(line);
        }

        return waiter;
    }

    // The waiter whose place an arrival of tenant takes when the queue is full: the newest of the tenant holding the
    // most above its weighted share, when that share stays larger than the arrival's own tenant's with the arrival
    // counted (count / weight compared by cross-multiplying); null to turn the arrival away.
    private Waiter? Displace(string tenant, int weight)
    {
        _lines.TryGetValue(tenant, out var own);
        long ownAfter = (own?.Count ?? 0) + 1;
        TenantLine? victim = null;
        for (var line = _first; line is not null; line = line.NextInRound)
        {
            if (line == own || (long)line.Count * weight <= ownAfter * line.Weight)
            {
                continue;
            }

            if (victim is null || (long)line.Count * victim.Weight > (long)victim.Count * line.Weight)
            {
                victim = line;
            }
        }

        return victim?.Newest;
    }

    private void JoinRound(TenantLine line)
    {
        line.PreviousInRound = _last;
        line.NextInRound = null;
        if (_last is { } last)
        {
            last.NextInRound = line;
        }
        else
        {
            _first = line;
        }

        _last = line;
    }

    private void LeaveRound(TenantLine line)
    {
        if (line.PreviousInRound is { } previous)
        {
            previous.NextInRound = line.NextInRound;
        }
        else
        {
            _first = line.NextInRound;
        }

        if (line.NextInRound is { } next)
        {
            next.PreviousInRound = line.PreviousInRound;
        }
        else
        {
            _last = line.PreviousInRound;
        }

        line.PreviousInRound = line.NextInRound = null;
        line.Deficit = 0;
    }

    /// <summary>One tenant's waiters, oldest first, and its place in the round.</summary>
    private sealed class TenantLine(string tenant)
    {
        public string Tenant { get; } = tenant;

        public int Weight { get; set; } = 1;

        // Slots left in the tenant's current turn.
        public int Deficit { get; set; }

        public int Count { get; set; }

        public Waiter? Oldest { get; set; }

        public Waiter? Newest { get; set; }

        public TenantLine? PreviousInRound { get; set; }

        public TenantLine? NextInRound { get; set; }
    }
}
