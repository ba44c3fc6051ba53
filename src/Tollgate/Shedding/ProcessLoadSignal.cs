namespace Tollgate.Shedding;

/// <summary>
/// The gateway process's CPU and memory, for the shedding thresholds (<c>Gateway:Shedding</c>). Reading
/// <see cref="Current"/> costs a field read; a new measurement is taken by the first reader after
/// <see cref="SampleInterval"/> has passed (the process's CPU time and resident set: two cheap system calls), so the
/// process is measured at most once an interval, and only while someone asks.
/// </summary>
internal sealed class ProcessLoadSignal : ILoadSignal
{
    /// <summary>The shortest time between two measurements; CPU is averaged over it.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private volatile Measurement _last;

    public ProcessLoadSignal(TimeProvider time)
    {
        _time = time;
        // The first reading comes an interval after start-up; until then the load reads as none.
        _last = new Measurement(_time.GetTimestamp(), Environment.CpuUsage.TotalTime, default);
    }

    public LoadSample Current
    {
        get
        {
            var last = _last;
            if (_time.GetElapsedTime(last.Timestamp) >= SampleInterval && _lock.TryEnter())
            {
                try
                {
                    last = Measure(_last);
                }
                finally
                {
                    _lock.Exit();
                }
            }

            return last.Sample;
        }
    }

    private Measurement Measure(Measurement previous)
    {
        long now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(previous.Timestamp, now);
        if (elapsed < SampleInterval)
        {
            return previous; // another reader measured meanwhile
        }

        var cpu = Environment.CpuUsage.TotalTime;
        double share = (cpu - previous.CpuTime).TotalSeconds / (elapsed.TotalSeconds * Environment.ProcessorCount);
        int percent = (int)Math.Clamp(Math.Round(share * 100), 0, 100);
        var next = new Measurement(now, cpu, new LoadSample(percent, Environment.WorkingSet));
        _last = next;
        return next;
    }

    private sealed record Measurement(long Timestamp, TimeSpan CpuTime, LoadSample Sample);
}
