using BenchmarkDotNet.Attributes;
using Tollgate.Shedding;

namespace Tollgate.Benchmarks.Shedding;

/// <summary>
/// What the shedding queue costs a request: a slot taken and given back when nobody waits (the fast path every
/// request takes below <c>Global:MaxConcurrentRequests</c>), the same with a CPU threshold watched (one read of the
/// load signal more), and a request that waits for a slot another request hands it (the queue's slow path).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class FairSchedulerBenchmarks
{
    private FairScheduler _free = null!;
    private FairScheduler _watched = null!;
    private FairScheduler _full = null!;

    [GlobalSetup]
    public void Setup()
    {
        _free = new FairScheduler(TimeProvider.System, new QuietLoad());
        _free.Configure(new QueueSettings(1024, 256, TimeSpan.FromSeconds(10)));
        _watched = new FairScheduler(TimeProvider.System, new QuietLoad());
        _watched.Configure(new QueueSettings(1024, 256, TimeSpan.FromSeconds(10), CpuPercent: 90, MemoryBytes: 1L << 32));
        _full = new FairScheduler(TimeProvider.System, new QuietLoad());
        _full.Configure(new QueueSettings(1, 256, TimeSpan.FromSeconds(10)));
        if (!_full.TryAcquire())
        {
            throw new InvalidOperationException("The slot is taken.");
        }
    }

    /// <summary><see cref="FairScheduler.TryAcquire"/> and <see cref="FairScheduler.Release"/>, nobody waiting.</summary>
    [Benchmark(Baseline = true)]
    public bool AcquireRelease()
    {
        bool taken = _free.TryAcquire();
        _free.Release();
        return taken;
    }

    /// <summary>The same with a CPU and a memory threshold set.</summary>
    [Benchmark]
    public bool AcquireReleaseWatchingLoad()
    {
        bool taken = _watched.TryAcquire();
        _watched.Release();
        return taken;
    }

    /// <summary>A request waits (the one slot is held), the holder ends and hands it the slot.</summary>
    [Benchmark]
    public async Task<SlotOutcome> WaitAndHandOff()
    {
        var waiting = _full.WaitAsync("acme", 1, CancellationToken.None);
        _full.Release();
        return await waiting;
    }

    private sealed class QuietLoad : ILoadSignal
    {
        public LoadSample Current => new(10, 1L << 28);
    }
}
