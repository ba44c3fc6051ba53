namespace Tollgate.Shedding;

/// <summary>
/// The gateway's concurrency slots (<c>Global:MaxConcurrentRequests</c>) and the bounded queue of requests waiting
/// for one, served by fair share between tenants (issue 9, "load shedding and fairness").
/// </summary>
/// <remarks>
/// <para>
/// <b>Fast path.</b> While nobody waits, <see cref="TryAcquire"/> takes a slot with one compare-and-swap: no lock, no
/// allocation. <see cref="Release"/> gives it back with one atomic decrement, and takes the lock only when someone
/// waits.
/// </para>
/// <para>
/// <b>Fair share.</b> Waiting requests sit in one first-in-first-out line per tenant. A freed slot goes to the tenant
/// at the head of the round (deficit round robin with a quantum of the tenant's weight, every request costing one):
/// each tenant with waiters gets <c>Weight</c> slots per round, in turn, so a tenant's share of the slots handed out
/// while several wait is its weight over theirs, however many requests it queues. A tenant whose line empties leaves
/// the round and starts afresh at its tail when it comes back; it keeps no credit.
/// </para>
/// <para>
/// <b>Bounded.</b> At most <see cref="QueueSettings.QueueLength"/> requests wait. A request arriving at a full queue
/// takes the place of the newest waiter of the tenant holding most above its weighted share of the queue, when that
/// is not its own tenant; otherwise it is turned away (<see cref="SlotOutcome.QueueFull"/>). So one tenant's flood fills
/// the queue only while nobody else waits, and never keeps another tenant out of it. A waiter leaves after
/// <see cref="QueueSettings.MaxWait"/> (<see cref="SlotOutcome.TimedOut"/>) or when its cancellation token fires
/// (<see cref="SlotOutcome.Canceled"/>), and its place is freed at once.
/// </para>
/// <para>
/// <b>Load.</b> While the <see cref="ILoadSignal"/> reaches a threshold, no new slot is handed out: a request ending
/// passes its slot straight to the next waiter in fair order, and every arrival waits (or is turned away), so the
/// gateway takes on no more concurrent work than it has until the load falls.
/// </para>
/// <para>Time comes from the injected <see cref="TimeProvider"/>: tests move a fake clock to run a wait out.</para>
/// </remarks>
public sealed partial class FairScheduler
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ILoadSignal _load;
    private volatile QueueSettings _settings;
    private volatile bool _overloaded;
    private int _inUse;

    // Waiters in every line; written under the lock (with a full fence), read without it on the fast paths.
    private int _waiting;

    /// <summary>Creates a queue with no limit (<see cref="QueueSettings.Unlimited"/>) until <see cref="Configure"/>.</summary>
    public FairScheduler(TimeProvider time, ILoadSignal load)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(load);
        _time = time;
        _load = load;
        _settings = QueueSettings.Unlimited;
    }

    /// <summary>The settings in force.</summary>
    public QueueSettings Settings => _settings;

    /// <summary>Slots held now.</summary>
    public int InUse => Volatile.Read(ref _inUse);

    /// <summary>Requests waiting now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Whether the load signal reached a threshold when last read.</summary>
    public bool Overloaded => _overloaded;

    /// <summary>
    /// Applies new settings (a configuration reload): a larger capacity hands the new slots to waiters at once; a
    /// smaller one lets the requests holding slots finish and hands out none until fewer than the new capacity hold
    /// one; a shorter queue keeps who already waits and turns arrivals away until it is under the new length; a new
    /// longest wait applies to requests that start waiting from now on.
    /// </summary>
    public void Configure(QueueSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        lock (_lock)
        {
            _settings = settings;
            RefreshLoad(settings);
            Pump(settings);
        }
    }

    /// <summary>
    /// Reads the load signal again (when a threshold is set) and, when the load has fallen, hands free slots to
    /// waiters. Arrivals read it anyway; the host also calls this on a timer, so that waiters are served when the load
    /// falls while no request arrives.
    /// </summary>
    public void Refresh()
    {
        RefreshLoad(_settings);
        if (Volatile.Read(ref _waiting) > 0 && Volatile.Read(ref _inUse) == 0)
        {
            // Over a threshold with nothing in flight: the one slot that may still be held goes to the next waiter.
            lock (_lock)
            {
                Pump(_settings);
            }
        }
    }

    /// <summary>
    /// Takes a slot when one is free, nobody waits and the load is under every threshold: the fast path, one
    /// compare-and-swap without a lock or an allocation. False: call <see cref="WaitAsync"/>.
    /// </summary>
    public bool TryAcquire()
    {
        var settings = _settings;
        if (settings.WatchesLoad)
        {
            RefreshLoad(settings);
        }

        return Volatile.Read(ref _waiting) == 0 && TryTakeSlot(Limit(settings));
    }

    /// <summary>
    /// Waits for a slot in <paramref name="tenant"/>'s line, served by fair share with <paramref name="weight"/>
    /// (the tenant's weight in the configuration the request runs under). Completes with
    /// <see cref="SlotOutcome.Acquired"/> (at once when a slot is free and nobody waits), or with why the request got
    /// none. Never throws for a cancellation: <see cref="SlotOutcome.Canceled"/> says so.
    /// </summary>
    public ValueTask<SlotOutcome> WaitAsync(string tenant, int weight, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, 1);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromResult(SlotOutcome.Canceled);
        }

        var settings = _settings;
        if (settings.WatchesLoad)
        {
            RefreshLoad(settings);
        }

        Waiter waiter;
        lock (_lock)
        {
            settings = _settings;
            if (_waiting == 0 && TryTakeSlot(Limit(settings)))
            {
                return ValueTask.FromResult(SlotOutcome.Acquired);
            }

            if (_waiting >= settings.QueueLength)
            {
                var displaced = Displace(tenant, weight);
                if (displaced is null)
                {
                    return ValueTask.FromResult(SlotOutcome.QueueFull);
                }

                Remove(displaced);
                displaced.Complete(SlotOutcome.QueueFull);
            }

            waiter = new Waiter(this);
            Enqueue(waiter, tenant, weight);
            // A slot freed between the fast path's look and this enqueue is handed out here (see Release).
            Pump(settings);
        }

        if (waiter.IsQueued)
        {
            waiter.Start(_time, settings.MaxWait, cancellationToken);
        }

        return waiter.AsValueTask();
    }

    /// <summary>Gives back a slot taken by <see cref="TryAcquire"/> or <see cref="WaitAsync"/>: exactly once per slot.</summary>
    public void Release()
    {
        if (_overloaded && Volatile.Read(ref _waiting) > 0 && TryHandOff())
        {
            return;
        }

        if (Interlocked.Decrement(ref _inUse) < 0)
        {
            Interlocked.Increment(ref _inUse);
            throw new InvalidOperationException("A concurrency slot was released that was not held.");
        }

        // The decrement is a full fence, as is an enqueue's increment of _waiting before its own Pump: either this
        // sees the waiter, or the waiter's Pump sees the freed slot.
        if (Volatile.Read(ref _waiting) > 0)
        {
            lock (_lock)
            {
                Pump(_settings);
            }
        }
    }

    private bool TryTakeSlot(int capacity)
    {
        int held = Volatile.Read(ref _inUse);
        while (held < capacity)
        {
            int seen = Interlocked.CompareExchange(ref _inUse, held + 1, held);
            if (seen == held)
            {
                return true;
            }

            held = seen;
        }

        return false;
    }

    // Over a threshold, a request that ends passes its slot to the next waiter instead of freeing it: the number of
    // slots held stays as it is (unless a reload lowered the capacity under it).
    private bool TryHandOff()
    {
        lock (_lock)
        {
            if (!_overloaded || _waiting == 0 || Volatile.Read(ref _inUse) > _settings.Capacity)
            {
                return false;
            }

            var next = NextFair();
            Remove(next);
            next.Complete(SlotOutcome.Acquired);
            return true;
        }
    }

    // Hands free slots to waiters in fair order. Under the lock.
    private void Pump(QueueSettings settings)
    {
        while (_waiting > 0 && TryTakeSlot(Limit(settings)))
        {
            var next = NextFair();
            Remove(next);
            next.Complete(SlotOutcome.Acquired);
        }
    }

    // Slots that may be held now: the capacity, or while the load is over a threshold one, so that the gateway never
    // stops altogether (with nothing in flight no slot would ever be handed back, and a memory threshold may not clear
    // by itself).
    private int Limit(QueueSettings settings) => _overloaded ? Math.Min(1, settings.Capacity) : settings.Capacity;

    private void RefreshLoad(QueueSettings settings)
    {
        bool overloaded = settings.WatchesLoad && settings.IsOverloaded(_load.Current);
        if (overloaded == _overloaded)
        {
            return;
        }

        lock (_lock)
        {
            // Read again under the lock, so that two readers of different samples cannot leave the older one in force.
            settings = _settings;
            _overloaded = settings.WatchesLoad && settings.IsOverloaded(_load.Current);
            Pump(settings);
        }
    }

    private void Expire(Waiter waiter, SlotOutcome outcome)
    {
        lock (_lock)
        {
            if (!waiter.IsQueued)
            {
                return;
            }

            Remove(waiter);
        }

        waiter.Complete(outcome);
    }
}
