namespace Tollgate.Limits;

/// <summary>
/// One limit's counter. Sliding windows count in 60 slots of 1/60 of the window; a slot's amount leaves whole when
/// its slot has been out of the window for a full slot, so the count errs on the side of refusing (an amount is
/// counted for between 60 and 61 slot lengths, never less than the window); calendar windows keep the current period;
/// concurrency is a gauge. Not thread-safe, even to read (a sum is remembered): the store serializes access.
/// </summary>
/// <remarks>
/// A sliding window holds only the slots that have something in them, in arrays that grow as needed (up to 61): most
/// counters of most keys see a few requests per window, and a gateway holds counters for every active key, user,
/// tenant and address. A busy counter is asked for its sum several times per request (reserve, statuses, settle) and
/// its slot changes once per 1/60 of its window, so the sum and the oldest counted slot are kept for the slot last
/// asked about and kept current by <see cref="Add"/>: most asks read them instead of walking up to 61 slots.
/// </remarks>
internal sealed class Counter(Window window)
{
    // 61 slots: the 60 that make up the window plus the one in progress, so an amount is counted for at least the
    // full window (between 60 and 61 slot lengths) and never leaves early.
    private const int Ring = Windows.Slots + 1;
    private long[] _values = new long[1];
    private long[] _slots = new long[1];
    private int _count = window.IsSliding() ? 0 : 1;
    private long _newest = long.MinValue;
    private int _last; // the index last added to

    // The sum of the window ending at _memoSlot and its oldest slot holding a positive amount (long.MaxValue: none),
    // valid while _memoSlot != NoMemo. Add keeps them exact or drops them; they are never stale.
    private const long NoMemo = long.MinValue;
    private const long MemoCeiling = long.MaxValue / 4;
    private long _memoSlot = NoMemo;
    private long _memoSum;
    private long _memoOldest;

    public Window Window { get; } = window;

    /// <summary>Slots the counter has room for now (memory held: two longs each).</summary>
    internal int Capacity => _slots.Length;

    public long Sum(long currentSlot)
    {
        if (Window == Window.Concurrent)
        {
            return _values[0];
        }

        if (!Window.IsSliding())
        {
            return _slots[0] == currentSlot ? _values[0] : 0;
        }

        if (currentSlot != _memoSlot)
        {
            Remember(currentSlot);
        }

        return _memoSum;
    }

    /// <summary>How many times the slots were walked for a sum (tests count them).</summary>
    internal int Walks { get; private set; }

    private void Remember(long currentSlot)
    {
        (_memoSum, _memoOldest) = Walk(currentSlot);
        _memoSlot = currentSlot;
        Walks++;
    }

    /// <summary>
    /// Walks the slots for the window ending at <paramref name="currentSlot"/>: its sum, and its oldest slot holding a
    /// positive amount (<see cref="long.MaxValue"/> when none). What <see cref="Sum"/> and <see cref="ResetsIn"/> remember.
    /// </summary>
    internal (long Sum, long Oldest) Walk(long currentSlot)
    {
        long sum = 0;
        long oldest = long.MaxValue;
        for (int i = 0; i < _count; i++)
        {
            if (_slots[i] > currentSlot - Ring && _slots[i] <= currentSlot)
            {
                sum = Pricing.Saturating.Add(sum, _values[i]);
                if (_values[i] > 0 && _slots[i] < oldest)
                {
                    oldest = _slots[i];
                }
            }
        }

        return (sum, oldest);
    }

    // Slot `slot` went from `before` to `after`: the remembered window follows, or is dropped when it cannot be kept exact.
    private void Changed(long slot, long before, long after)
    {
        if (_memoSlot == NoMemo || slot <= _memoSlot - Ring || slot > _memoSlot)
        {
            return;
        }

        if (after > MemoCeiling || _memoSum > MemoCeiling || (after == 0 && slot == _memoOldest))
        {
            // Near saturation, or the oldest amount is gone: the next ask walks the slots.
            _memoSlot = NoMemo;
            return;
        }

        _memoSum += after - before;
        if (after > 0 && slot < _memoOldest)
        {
            _memoOldest = slot;
        }
    }

    /// <summary>Adds <paramref name="amount"/> (may be negative) in <paramref name="slot"/>; ignored when that slot or period is already gone.</summary>
    public void Add(long slot, long amount)
    {
        if (Window == Window.Concurrent)
        {
            _values[0] = Math.Max(0, Pricing.Saturating.Add(_values[0], amount));
            return;
        }

        if (!Window.IsSliding())
        {
            if (_slots[0] == slot)
            {
                _values[0] = Math.Max(0, Pricing.Saturating.Add(_values[0], amount));
            }
            else if (_slots[0] < slot)
            {
                _slots[0] = slot;
                _values[0] = Math.Max(0, amount);
            }

            return;
        }

        // A slot appears at most once: the one last added to (a request's reserve, then its settle) is tried first.
        if (_last < _count && _slots[_last] == slot)
        {
            AddAt(_last, amount);
            return;
        }

        int free = -1;
        for (int i = 0; i < _count; i++)
        {
            if (_slots[i] == slot)
            {
                AddAt(i, amount);
                return;
            }

            if (free < 0 && _slots[i] <= Math.Max(slot, _newest) - Ring)
            {
                free = i;
            }
        }

        if (_count > 0 && slot <= _newest - Ring)
        {
            // That slot has left every window that can still ask for it.
            return;
        }

        if (free < 0)
        {
            if (_count == _slots.Length)
            {
                int size = Math.Min(Ring, _count * 2);
                Array.Resize(ref _slots, size);
                Array.Resize(ref _values, size);
            }

            free = _count++;
        }

        // A slot is taken (perhaps one that left the window in its place): the next ask walks the slots.
        _memoSlot = NoMemo;
        _slots[free] = slot;
        _values[free] = Math.Max(0, amount);
        _newest = Math.Max(_newest, slot);
        _last = free;
    }

    private void AddAt(int index, long amount)
    {
        long before = _values[index];
        _values[index] = Math.Max(0, Pricing.Saturating.Add(before, amount));
        Changed(_slots[index], before, _values[index]);
        _last = index;
    }

    /// <summary>For calendar windows: the start (unix seconds) of the period last counted.</summary>
    public long LastPeriodStart => _slots[0];

    /// <summary>Whether nothing is counted any more (the counter can be dropped).</summary>
    public bool IsIdle(long currentSlot) => Sum(currentSlot) == 0;

    /// <summary>
    /// How long until <paramref name="needed"/> more fits under <paramref name="limit"/>; null if it never will
    /// (more than the limit itself, or a gauge with nothing to release).
    /// </summary>
    public TimeSpan? TimeUntilFits(long needed, long limit, long currentSlot, Scope scope, DateTimeOffset now)
    {
        if (needed > limit)
        {
            return null;
        }

        switch (Window)
        {
            case Window.Concurrent:
                return TimeSpan.FromSeconds(1);
            case Window.CalendarDay or Window.CalendarMonth:
                return WindowClock.PeriodEnd(Window, scope.TimeZone, now) - now;
        }

        long used = Sum(currentSlot);
        var order = new List<(long Slot, long Value)>();
        for (int i = 0; i < _count; i++)
        {
            if (_slots[i] > currentSlot - Ring && _slots[i] <= currentSlot && _values[i] > 0)
            {
                order.Add((_slots[i], _values[i]));
            }
        }

        order.Sort((a, b) => a.Slot.CompareTo(b.Slot));
        foreach (var (slot, value) in order)
        {
            used = Pricing.Saturating.Add(used, -value);
            if (Pricing.Saturating.Add(used, needed) <= limit)
            {
                var wait = WindowClock.SlotExpiry(Window, slot) - now;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return TimeSpan.Zero;
    }

    /// <summary>When the oldest counted amount leaves the window (or the period ends).</summary>
    public TimeSpan ResetsIn(long currentSlot, Scope scope, DateTimeOffset now)
    {
        if (Window is Window.CalendarDay or Window.CalendarMonth)
        {
            return WindowClock.PeriodEnd(Window, scope.TimeZone, now) - now;
        }

        if (!Window.IsSliding())
        {
            return TimeSpan.Zero;
        }

        if (currentSlot != _memoSlot)
        {
            Remember(currentSlot);
        }

        long oldest = _memoOldest;
        if (oldest == long.MaxValue)
        {
            return TimeSpan.Zero;
        }

        var wait = WindowClock.SlotExpiry(Window, oldest) - now;
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }
}
