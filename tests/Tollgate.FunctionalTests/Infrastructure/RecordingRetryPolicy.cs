using System.ClientModel.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace Tollgate.FunctionalTests.Infrastructure;

/// <summary>
/// The OpenAI SDK's own retry policy — <see cref="ClientRetryPolicy"/> decides whether to retry and for how long —
/// with only the waiting replaced: each delay the SDK asks for is recorded and moves the fake clock forward instead
/// of sleeping, so the retry reaches the gateway at the instant the SDK meant it to.
/// </summary>
internal sealed class RecordingRetryPolicy(FakeTimeProvider? time = null) : ClientRetryPolicy
{
    private readonly List<TimeSpan> _delays = [];

    /// <summary>The delays the SDK waited before each retry, in order.</summary>
    public IReadOnlyList<TimeSpan> Delays
    {
        get
        {
            lock (_delays)
            {
                return [.. _delays];
            }
        }
    }

    protected override Task WaitAsync(TimeSpan time, CancellationToken cancellationToken)
    {
        Record(time);
        return Task.CompletedTask;
    }

    protected override void Wait(TimeSpan time, CancellationToken cancellationToken) => Record(time);

    private void Record(TimeSpan delay)
    {
        lock (_delays)
        {
            _delays.Add(delay);
        }

        time?.Advance(delay);
    }
}
