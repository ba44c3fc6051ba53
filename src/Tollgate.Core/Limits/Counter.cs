namespace Tollgate.Limits;

/// <summary>
/// One limit's counter. Sliding windows count in 60 slots of 1/60 of the window; a slot's amount leaves whole when
/// its slot has been out of the window for a full slot, so the count errs on the side of refusing (an amount is
/// counted for between 60 and 61 slot lengths, never less than the window); calendar windows keep the current period;
/// concurrency is a gauge. Not thread-safe: the store serializes access.
/// </summary>
/// <remarks>
/// A sliding window holds only the slots that have something in them, in arrays that grow as needed (up to 61): most
/// counters of most keys see a few requests per window, and a gateway holds counters for every active key, user,
/// tenant and address.
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

        long sum = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_slots[i] > currentSlot - Ring && _slots[i] <= currentSlot)
            {
                sum = Pricing.Saturating.Add(sum, _values[i]);
            }
        }

        return sum;
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

        int free = -1;
        for (int i = 0; i < _count; i++)
        {
            if (_slots[i] == slot)
            {
                _values[i] = Math.Max(0, Pricing.Saturating.Add(_values[i], amount));
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

        _slots[free] = slot;
        _values[free] = Math.Max(0, amount);
        _newest = Math.Max(_newest, slot);
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

        long oldest = long.MaxValue;
        for (int i = 0; i < _count; i++)
        {
            if (_slots[i] > currentSlot - Ring && _slots[i] <= currentSlot && _values[i] > 0)
            {
                oldest = Math.Min(oldest, _slots[i]);
            }
        }

        if (oldest == long.MaxValue)
        {
            return TimeSpan.Zero;
        }

        var wait = WindowClock.SlotExpiry(Window, oldest) - now;
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }
}
