using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Tollgate.Simulator.Tests;

/// <summary>A <see cref="FakeTimeProvider"/> that reports each timer it creates, so a test advances time only once the code under test waits.</summary>
internal sealed class ObservableTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public ObservableTimeProvider()
        : base(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero))
    {
    }

    /// <summary>Waits until the next timer is created and returns its due time.</summary>
    public async Task<TimeSpan> NextTimerAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _timers.Reader.ReadAsync(timeout.Token);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }
}
