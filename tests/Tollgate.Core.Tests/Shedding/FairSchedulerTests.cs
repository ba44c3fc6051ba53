using Microsoft.Extensions.Time.Testing;
using Tollgate.Core.Tests.Configuration;
using Tollgate.Shedding;

namespace Tollgate.Core.Tests.Shedding;

/// <summary>
/// The concurrency slots and the fair queue before admission: who gets the next slot (queue order, admission share by
/// weight), who is turned away when the queue is full, waits run out on a fake clock, callers leave, reloads, load
/// thresholds, and no slot leaks.
/// </summary>
public sealed class FairSchedulerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero));
    private readonly FakeLoad _load = new();

    [Fact]
    public void TryAcquire_UnderCapacity_TakesSlotsUntilFullAndReleaseFreesThem()
    {
        var scheduler = Scheduler(capacity: 3);

        Assert.True(scheduler.TryAcquire());
        Assert.True(scheduler.TryAcquire());
        Assert.True(scheduler.TryAcquire());
        Assert.False(scheduler.TryAcquire());
        Assert.Equal(3, scheduler.InUse);

        scheduler.Release();

        Assert.Equal(2, scheduler.InUse);
        Assert.True(scheduler.TryAcquire());
    }

    [Fact]
    public void TryAcquire_NobodyWaiting_AllocatesNothing()
    {
        var scheduler = Scheduler(capacity: 8);
        var watched = Scheduler(capacity: 8, cpuPercent: 90, memoryBytes: 1L << 40);
        for (int i = 0; i < 100; i++)
        {
            AcquireRelease(scheduler);
            AcquireRelease(watched);
        }

        // The runtime itself may allocate once while it recompiles the loop's methods (tiered compilation): a round
        // that allocated nothing shows that acquiring and releasing do not, and any per-call allocation would show in
        // every round.
        long fewest = long.MaxValue;
        for (int round = 0; round < 5 && fewest != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                AcquireRelease(scheduler);
                AcquireRelease(watched);
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);

        static void AcquireRelease(FairScheduler scheduler)
        {
            Assert.True(scheduler.TryAcquire());
            scheduler.Release();
        }
    }

    [Fact]
    public void TryAcquire_WhileSomeoneWaits_LeavesTheFreedSlotToTheWaiter()
    {
        var scheduler = Full(capacity: 1);
        var waiting = scheduler.WaitAsync("acme", 1, CancellationToken.None);

        Assert.False(scheduler.TryAcquire());
        scheduler.Release();

        Assert.True(waiting.IsCompleted);
        Assert.Equal(SlotOutcome.Acquired, Outcome(waiting));
        Assert.False(scheduler.TryAcquire());
        Assert.Equal((1, 0), (scheduler.InUse, scheduler.Waiting));
    }

    [Fact]
    public void WaitAsync_SlotFreeAndNobodyWaiting_AcquiresAtOnce()
    {
        var scheduler = Scheduler(capacity: 1);

        var outcome = scheduler.WaitAsync("acme", 1, CancellationToken.None);

        Assert.True(outcome.IsCompletedSuccessfully);
        Assert.Equal(SlotOutcome.Acquired, Outcome(outcome));
        Assert.Equal(1, scheduler.InUse);
    }

    [Fact]
    public void WaitAsync_QueueFullOfTheSameTenant_TurnsTheArrivalAway()
    {
        var scheduler = Full(capacity: 1, queueLength: 2);
        var first = scheduler.WaitAsync("acme", 1, CancellationToken.None);
        var second = scheduler.WaitAsync("acme", 1, CancellationToken.None);

        var third = scheduler.WaitAsync("acme", 1, CancellationToken.None);

        Assert.Equal(SlotOutcome.QueueFull, Outcome(third));
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        Assert.Equal(2, scheduler.Waiting);
    }

    [Fact]
    public void WaitAsync_NoQueue_TurnsEveryArrivalAwayWhenFull()
    {
        var scheduler = Full(capacity: 2, queueLength: 0);

        Assert.Equal(SlotOutcome.QueueFull, Outcome(scheduler.WaitAsync("acme", 1, CancellationToken.None)));
        Assert.Equal(0, scheduler.Waiting);
    }

    [Fact]
    public void WaitAsync_QueueFullOfAFlood_AnotherTenantTakesTheFloodersNewestPlaces()
    {
        var scheduler = Full(capacity: 1, queueLength: 4);
        var flood = Enumerable.Range(0, 4).Select(_ => scheduler.WaitAsync("flood", 1, CancellationToken.None)).ToList();

        var calm1 = scheduler.WaitAsync("calm", 1, CancellationToken.None);
        var calm2 = scheduler.WaitAsync("calm", 1, CancellationToken.None);
        var calm3 = scheduler.WaitAsync("calm", 1, CancellationToken.None);

        // The newest flood requests lost their places; a third calm request would hold more than its share.
        Assert.Equal([false, false, true, true], flood.Select(f => f.IsCompleted));
        Assert.Equal(SlotOutcome.QueueFull, Outcome(flood[3]));
        Assert.Equal(SlotOutcome.QueueFull, Outcome(flood[2]));
        Assert.False(calm1.IsCompleted);
        Assert.False(calm2.IsCompleted);
        Assert.Equal(SlotOutcome.QueueFull, Outcome(calm3));
        Assert.Equal((2, 2, 4), (scheduler.WaitingFor("flood"), scheduler.WaitingFor("calm"), scheduler.Waiting));
    }

    [Fact]
    public void WaitAsync_QueueFullOfAFlood_PlacesAreSharedByWeight()
    {
        var scheduler = Full(capacity: 1, queueLength: 8);
        var flood = Enumerable.Range(0, 8).Select(_ => scheduler.WaitAsync("flood", 1, CancellationToken.None)).ToList();

        var outcomes = Enumerable.Range(0, 10).Select(_ => scheduler.WaitAsync("gold", 3, CancellationToken.None)).ToList();

        // Gold (weight 3) ends with three places for each of the flood's (weight 1): 6 and 2.
        Assert.Equal((2, 6), (scheduler.WaitingFor("flood"), scheduler.WaitingFor("gold")));
        Assert.Equal(4, outcomes.Count(o => o.IsCompleted && Outcome(o) == SlotOutcome.QueueFull));
        Assert.Equal(6, flood.Count(f => f.IsCompleted && Outcome(f) == SlotOutcome.QueueFull));
    }

    [Fact]
    public void Release_TwoTenantsOfEqualWeight_ServesThemInTurn()
    {
        var scheduler = Full(capacity: 1, queueLength: 100);
        var pending = Enqueue(scheduler, ("flood", 1, 10), ("calm", 1, 4));

        var order = ServeAll(scheduler, pending);

        Assert.Equal("flood calm flood calm flood calm flood calm flood flood flood flood flood flood", string.Join(' ', order));
    }

    [Fact]
    public void Release_WeightsThreeToOne_ServesThreeForOne()
    {
        var scheduler = Full(capacity: 1, queueLength: 100);
        var pending = Enqueue(scheduler, ("flood", 1, 10), ("gold", 3, 7));

        var order = ServeAll(scheduler, pending);

        Assert.Equal("flood gold gold gold flood gold gold gold flood gold flood flood flood flood flood flood flood", string.Join(' ', order));
    }

    [Fact]
    public void Release_WithinATenant_ServesItsRequestsInArrivalOrder()
    {
        var scheduler = Full(capacity: 1);
        var requests = Enumerable.Range(0, 5).Select(_ => scheduler.WaitAsync("acme", 1, CancellationToken.None)).ToList();

        for (int i = 0; i < requests.Count; i++)
        {
            scheduler.Release();
            Assert.Equal(i + 1, requests.Count(r => r.IsCompleted));
            Assert.True(requests[i].IsCompleted);
        }
    }

    [Theory]
    [InlineData(1, 1, 100, 100)]
    [InlineData(1, 3, 50, 150)]
    [InlineData(2, 3, 80, 120)]
    public void Release_OneTenantFloods_TheOtherIsAdmittedAtItsShare(int floodWeight, int calmWeight, int floodShare, int calmShare)
    {
        // The flood keeps the queue full; the calm tenant keeps two requests waiting. Every slot freed goes by share.
        var scheduler = Full(capacity: 4, queueLength: 32);
        var waiting = new List<(string Tenant, ValueTask<SlotOutcome> Outcome)>();
        var admitted = new Dictionary<string, int>(StringComparer.Ordinal) { ["flood"] = 0, ["calm"] = 0 };
        for (int round = 0; round < 200; round++)
        {
            while (scheduler.WaitingFor("flood") < 32 && waiting.Count(w => w.Tenant == "flood") < 40)
            {
                var outcome = scheduler.WaitAsync("flood", floodWeight, CancellationToken.None);
                if (outcome.IsCompleted)
                {
                    Assert.Equal(SlotOutcome.QueueFull, Outcome(outcome));
                    break;
                }

                waiting.Add(("flood", outcome));
            }

            while (scheduler.WaitingFor("calm") < 2)
            {
                var outcome = scheduler.WaitAsync("calm", calmWeight, CancellationToken.None);
                Assert.False(outcome.IsCompleted);
                waiting.Add(("calm", outcome));
            }

            waiting.RemoveAll(w => w.Outcome.IsCompleted && Outcome(w.Outcome) == SlotOutcome.QueueFull);
            scheduler.Release();
            var served = Assert.Single(waiting, w => w.Outcome.IsCompleted);
            admitted[served.Tenant]++;
            waiting.Remove(served);
        }

        Assert.Equal((floodShare, calmShare), (admitted["flood"], admitted["calm"]));
        Assert.Equal(4, scheduler.InUse);
    }

    [Fact]
    public void WaitAsync_WaitRunsOut_TimedOutOnTheFakeClockAndTheSlotStaysWithItsHolder()
    {
        var scheduler = Full(capacity: 1);
        var waiting = scheduler.WaitAsync("acme", 1, CancellationToken.None);

        _time.Advance(Wait - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(SlotOutcome.TimedOut, Outcome(waiting));
        Assert.Equal((1, 0), (scheduler.InUse, scheduler.Waiting));
        scheduler.Release();
        Assert.Equal(0, scheduler.InUse);
    }

    [Fact]
    public async Task WaitAsync_Granted_ItsTimerNoLongerFires()
    {
        var scheduler = Full(capacity: 1);
        var waiting = scheduler.WaitAsync("acme", 1, CancellationToken.None);
        scheduler.Release();

        Assert.Equal(SlotOutcome.Acquired, await waiting);
        _time.Advance(Wait * 2);

        Assert.Equal((1, 0), (scheduler.InUse, scheduler.Waiting));
    }

    [Fact]
    public async Task WaitAsync_CallerLeaves_LeavesTheQueueAndTheNextSlotGoesToTheNextWaiter()
    {
        var scheduler = Full(capacity: 1);
        using var leaving = new CancellationTokenSource();
        var gone = scheduler.WaitAsync("acme", 1, leaving.Token);
        var next = scheduler.WaitAsync("acme", 1, CancellationToken.None);

        await leaving.CancelAsync();

        Assert.Equal(SlotOutcome.Canceled, await gone);
        Assert.Equal(1, scheduler.Waiting);
        scheduler.Release();
        Assert.Equal(SlotOutcome.Acquired, await next);
        Assert.Equal((1, 0), (scheduler.InUse, scheduler.Waiting));
    }

    [Fact]
    public void WaitAsync_AlreadyCancelled_IsCanceledWithoutQueueing()
    {
        var scheduler = Full(capacity: 1);

        var outcome = scheduler.WaitAsync("acme", 1, new CancellationToken(canceled: true));

        Assert.Equal(SlotOutcome.Canceled, Outcome(outcome));
        Assert.Equal(0, scheduler.Waiting);
    }

    [Fact]
    public void WaitAsync_TenantLeavesAndComesBack_JoinsTheBackOfTheRoundWithNoCredit()
    {
        var scheduler = Full(capacity: 1, queueLength: 100);
        var pending = Enqueue(scheduler, ("a", 2, 1), ("b", 2, 4));
        var order = new List<string> { Serve(scheduler, pending), Serve(scheduler, pending) };
        pending.AddRange(Enqueue(scheduler, ("a", 2, 3)));

        order.AddRange(ServeAll(scheduler, pending));

        // a's turn ended when its line emptied; back, it waits behind b's turn.
        Assert.Equal("a b b a a b b a", string.Join(' ', order));
    }

    [Fact]
    public void Configure_LargerCapacity_HandsTheNewSlotsToWaitersAtOnce()
    {
        var scheduler = Full(capacity: 1);
        var waiters = Enumerable.Range(0, 3).Select(_ => scheduler.WaitAsync("acme", 1, CancellationToken.None)).ToList();

        scheduler.Configure(new QueueSettings(3, 16, Wait));

        Assert.Equal([true, true, false], waiters.Select(w => w.IsCompleted));
        Assert.Equal((3, 1), (scheduler.InUse, scheduler.Waiting));
    }

    [Fact]
    public void Configure_SmallerCapacity_HandsOutNoSlotUntilUnderIt()
    {
        var scheduler = Full(capacity: 3);
        var waiting = scheduler.WaitAsync("acme", 1, CancellationToken.None);

        scheduler.Configure(new QueueSettings(1, 16, Wait));
        scheduler.Release();
        scheduler.Release();
        Assert.False(waiting.IsCompleted);
        scheduler.Release();

        Assert.Equal(SlotOutcome.Acquired, Outcome(waiting));
        Assert.Equal(1, scheduler.InUse);
    }

    [Fact]
    public void Configure_ShorterQueue_KeepsWhoWaitsAndTurnsArrivalsAway()
    {
        var scheduler = Full(capacity: 1, queueLength: 4);
        var waiters = Enumerable.Range(0, 3).Select(_ => scheduler.WaitAsync("acme", 1, CancellationToken.None)).ToList();

        scheduler.Configure(new QueueSettings(1, 1, Wait));

        Assert.All(waiters, w => Assert.False(w.IsCompleted));
        Assert.Equal(SlotOutcome.QueueFull, Outcome(scheduler.WaitAsync("acme", 1, CancellationToken.None)));
    }

    [Fact]
    public void Configure_LongerWait_AppliesToRequestsThatStartWaitingAfterwards()
    {
        var scheduler = Full(capacity: 1);
        var before = scheduler.WaitAsync("acme", 1, CancellationToken.None);
        scheduler.Configure(new QueueSettings(1, 16, Wait * 3));
        var after = scheduler.WaitAsync("acme", 1, CancellationToken.None);

        _time.Advance(Wait);

        Assert.Equal(SlotOutcome.TimedOut, Outcome(before));
        Assert.False(after.IsCompleted);
        _time.Advance(Wait * 2);
        Assert.Equal(SlotOutcome.TimedOut, Outcome(after));
    }

    [Fact]
    public void WaitAsync_WeightChangedByReload_NextTurnUsesTheNewWeight()
    {
        var scheduler = Full(capacity: 1, queueLength: 100);
        var pending = Enqueue(scheduler, ("a", 1, 2), ("b", 1, 8));
        pending.AddRange(Enqueue(scheduler, ("b", 3, 1)));

        var order = ServeAll(scheduler, pending);

        Assert.Equal("a b b b a b b b b b b", string.Join(' ', order));
    }

    [Fact]
    public void TryAcquire_CpuOverThreshold_TakesNoNewSlotAndEndingRequestsPassTheirsOn()
    {
        var scheduler = Scheduler(capacity: 10, cpuPercent: 80);
        Assert.True(scheduler.TryAcquire());
        Assert.True(scheduler.TryAcquire());
        _load.Current = new LoadSample(85, 0);

        Assert.False(scheduler.TryAcquire());
        var waiting = scheduler.WaitAsync("acme", 1, CancellationToken.None);
        Assert.True(scheduler.Overloaded);
        Assert.False(waiting.IsCompleted);
        scheduler.Release();

        Assert.Equal(SlotOutcome.Acquired, Outcome(waiting));
        Assert.Equal(2, scheduler.InUse);
    }

    [Fact]
    public void Refresh_LoadFalls_FreeSlotsGoToTheWaiters()
    {
        var scheduler = Scheduler(capacity: 10, cpuPercent: 80);
        _load.Current = new LoadSample(100, 0);
        // Over the threshold one request still runs at a time; the others wait.
        var first = scheduler.WaitAsync("acme", 1, CancellationToken.None);
        var second = scheduler.WaitAsync("acme", 1, CancellationToken.None);
        var third = scheduler.WaitAsync("acme", 1, CancellationToken.None);
        Assert.Equal(SlotOutcome.Acquired, Outcome(first));
        Assert.False(second.IsCompleted);

        _load.Current = new LoadSample(79, 0);
        scheduler.Refresh();

        Assert.Equal((SlotOutcome.Acquired, SlotOutcome.Acquired), (Outcome(second), Outcome(third)));
        Assert.False(scheduler.Overloaded);
        Assert.True(scheduler.TryAcquire());
    }

    [Fact]
    public void OverThreshold_NothingInFlight_OneRequestAtATimeStillRuns()
    {
        // A memory threshold may not clear by itself once requests stop: the gateway must not stop altogether.
        var scheduler = Scheduler(capacity: 10, memoryBytes: 1L << 30);
        _load.Current = new LoadSample(0, 1L << 30);

        Assert.True(scheduler.TryAcquire());
        Assert.False(scheduler.TryAcquire());
        var waiting = scheduler.WaitAsync("acme", 1, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        // The running one ends: its slot goes to the waiter, and still only one runs.
        scheduler.Release();
        Assert.Equal(SlotOutcome.Acquired, Outcome(waiting));
        Assert.Equal(1, scheduler.InUse);
        scheduler.Release();
        Assert.Equal(0, scheduler.InUse);

        // With nothing in flight and a waiter left behind (a release raced its arrival), the timer's refresh serves it.
        Assert.True(scheduler.TryAcquire());
        var late = scheduler.WaitAsync("acme", 1, CancellationToken.None);
        scheduler.Release();
        scheduler.Refresh();
        Assert.Equal(SlotOutcome.Acquired, Outcome(late));
    }

    [Fact]
    public void WaitAsync_MemoryOverThresholdAndNoQueue_ShedsAtOnce()
    {
        var scheduler = Scheduler(capacity: 10, queueLength: 0, memoryBytes: 1L << 30);
        _load.Current = new LoadSample(0, 1L << 30);

        Assert.True(scheduler.TryAcquire());
        Assert.False(scheduler.TryAcquire());
        Assert.Equal(SlotOutcome.QueueFull, Outcome(scheduler.WaitAsync("acme", 1, CancellationToken.None)));
        _load.Current = new LoadSample(0, (1L << 30) - 1);
        Assert.True(scheduler.TryAcquire());
    }

    [Fact]
    public void TryAcquire_NoThresholdConfigured_NeverReadsTheLoad()
    {
        var scheduler = Scheduler(capacity: 1);
        _load.Current = new LoadSample(100, long.MaxValue);

        Assert.True(scheduler.TryAcquire());
        Assert.False(scheduler.Overloaded);
        Assert.Equal(0, _load.Reads);
    }

    [Fact]
    public void Release_NothingHeld_Throws()
    {
        var scheduler = Scheduler(capacity: 1);

        Assert.Throws<InvalidOperationException>(scheduler.Release);
        Assert.Equal(0, scheduler.InUse);
    }

    [Fact]
    public async Task Race_ManyRequestsAcquiringWaitingLeavingAndTimingOut_NeverOverCapacityAndNothingLeaks()
    {
        const int Capacity = 5;
        var scheduler = Scheduler(capacity: Capacity, queueLength: 20);
        int holders = 0;
        int maxHolders = 0;
        int acquired = 0;
        using var stop = new CancellationTokenSource();
        var clock = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                await Task.Yield();
            }
        });

        async Task WorkerAsync(int seed)
        {
            var random = new Random(seed);
            for (int i = 0; i < 2_000; i++)
            {
                bool holds = scheduler.TryAcquire();
                if (!holds)
                {
                    using var leave = new CancellationTokenSource();
                    var waiting = scheduler.WaitAsync("t" + random.Next(4), 1 + random.Next(3), leave.Token);
                    if (random.Next(5) == 0)
                    {
                        await leave.CancelAsync();
                    }

                    holds = await waiting == SlotOutcome.Acquired;
                }

                if (!holds)
                {
                    continue;
                }

                Interlocked.Increment(ref acquired);
                int now = Interlocked.Increment(ref holders);
                InterlockedMax(ref maxHolders, now);
                if (random.Next(3) == 0)
                {
                    await Task.Yield();
                }

                Interlocked.Decrement(ref holders);
                scheduler.Release();
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 16).Select(seed => Task.Run(() => WorkerAsync(seed))));
        await stop.CancelAsync();
        await clock;

        Assert.InRange(maxHolders, 1, Capacity);
        Assert.True(acquired > 1_000, $"acquired {acquired}");
        Assert.Equal((0, 0), (scheduler.InUse, scheduler.Waiting));
    }

    [Theory]
    [InlineData(false, 12)]
    [InlineData(true, int.MaxValue)]
    public void From_GlobalConcurrency_IsTheCapacityUnlessShadowed(bool shadow, int capacity)
    {
        var options = TestOptions.Valid();
        options.Global.MaxConcurrentRequests = 12;
        options.Gateway.QueueLength = 7;
        options.Gateway.MaxQueueWait = TimeSpan.FromSeconds(3);
        options.Gateway.Shedding.CpuPercent = 90;
        if (shadow)
        {
            options.Global.Shadow.Add("MaxConcurrentRequests");
        }

        var settings = QueueSettings.From(options);

        Assert.Equal(new QueueSettings(capacity, 7, TimeSpan.FromSeconds(3), 90, null), settings);
    }

    // A value task the scheduler completed synchronously (its continuations run asynchronously, its state does not).
    private static SlotOutcome Outcome(ValueTask<SlotOutcome> pending)
    {
        Assert.True(pending.IsCompleted, "the request is still waiting");
#pragma warning disable CA2012 // completed, checked above
        return pending.Result;
#pragma warning restore CA2012
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    private FairScheduler Scheduler(int capacity, int queueLength = 16, int? cpuPercent = null, long? memoryBytes = null)
    {
        var scheduler = new FairScheduler(_time, _load);
        scheduler.Configure(new QueueSettings(capacity, queueLength, Wait, cpuPercent, memoryBytes));
        return scheduler;
    }

    // Every slot taken, nobody waiting yet.
    private FairScheduler Full(int capacity, int queueLength = 16)
    {
        var scheduler = Scheduler(capacity, queueLength);
        for (int i = 0; i < capacity; i++)
        {
            Assert.True(scheduler.TryAcquire());
        }

        return scheduler;
    }

    private static List<(string Tenant, ValueTask<SlotOutcome> Outcome)> Enqueue(FairScheduler scheduler, params (string Tenant, int Weight, int Count)[] batches)
    {
        var pending = new List<(string, ValueTask<SlotOutcome>)>();
        foreach (var (tenant, weight, count) in batches)
        {
            for (int i = 0; i < count; i++)
            {
                var outcome = scheduler.WaitAsync(tenant, weight, CancellationToken.None);
                Assert.False(outcome.IsCompleted);
                pending.Add((tenant, outcome));
            }
        }

        return pending;
    }

    // Frees one slot and returns the tenant of the one waiter it went to.
    private static string Serve(FairScheduler scheduler, List<(string Tenant, ValueTask<SlotOutcome> Outcome)> pending)
    {
        scheduler.Release();
        var served = Assert.Single(pending, p => p.Outcome.IsCompleted);
        Assert.Equal(SlotOutcome.Acquired, Outcome(served.Outcome));
        pending.Remove(served);
        return served.Tenant;
    }

    private static List<string> ServeAll(FairScheduler scheduler, List<(string Tenant, ValueTask<SlotOutcome> Outcome)> pending)
    {
        var order = new List<string>();
        while (pending.Count > 0)
        {
            order.Add(Serve(scheduler, pending));
        }

        Assert.Equal(0, scheduler.Waiting);
        return order;
    }

    private sealed class FakeLoad : ILoadSignal
    {
        private LoadSample _current;

        public int Reads { get; private set; }

        public LoadSample Current
        {
            get
            {
                Reads++;
                return _current;
            }
            set => _current = value;
        }
    }
}
