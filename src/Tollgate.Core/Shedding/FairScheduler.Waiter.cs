using System.Threading.Tasks.Sources;

namespace Tollgate.Shedding;

/// <summary>One request waiting for a slot.</summary>
public sealed partial class FairScheduler
{
    private static readonly TimerCallback s_timedOut = static state => ((Waiter)state!).Expire(SlotOutcome.TimedOut);
    private static readonly Action<object?> s_canceled = static state => ((Waiter)state!).Expire(SlotOutcome.Canceled);

    /// <summary>
    /// A waiter in a tenant's line and the value task its request awaits. Whoever takes it out of the line, under
    /// the lock, completes it — exactly once: a slot handed to it, its wait run out, its request gone, or its place
    /// given to another tenant. Its timer and cancellation registration are disposed by the awaiting request (in
    /// <see cref="GetResult"/>), never under the lock, where waiting for a running callback could deadlock.
    /// </summary>
    private sealed class Waiter(FairScheduler queue) : IValueTaskSource<SlotOutcome>
    {
        private ManualResetValueTaskSourceCore<SlotOutcome> _core = new() { RunContinuationsAsynchronously = true };
        private volatile bool _queued;
        private ITimer? _timer;
        private CancellationTokenRegistration _registration;

        public TenantLine? Line { get; set; }

        public Waiter? Previous { get; set; }

        public Waiter? Next { get; set; }

        public bool IsQueued
        {
            get => _queued;
            set => _queued = value;
        }

        public ValueTask<SlotOutcome> AsValueTask() => new(this, _core.Version);

        // Runs out of the lock, after the waiter joined its line: a timer or a token that fires at once finds it there.
        public void Start(TimeProvider time, TimeSpan maxWait, CancellationToken cancellationToken)
        {
            _timer = time.CreateTimer(s_timedOut, this, maxWait, Timeout.InfiniteTimeSpan);
            _registration = cancellationToken.UnsafeRegister(s_canceled, this);
        }

        public void Expire(SlotOutcome outcome) => queue.Expire(this, outcome);

        public void Complete(SlotOutcome outcome) => _core.SetResult(outcome);

        public SlotOutcome GetResult(short token)
        {
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                _registration.Dispose();
                _timer?.Dispose();
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
