using System.Diagnostics;

namespace Tollgate.FunctionalTests.Process;

/// <summary>Waits on another process's observable state: probes until a condition holds, failing at a deadline.</summary>
internal static class Poll
{
    private static readonly TimeSpan _interval = TimeSpan.FromMilliseconds(25);

    /// <summary>Probes until <paramref name="done"/> accepts the result; returns it, or fails after <paramref name="timeout"/>.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var elapsed = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(_interval);
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (elapsed.Elapsed > timeout)
            {
                Assert.Fail($"Waited {timeout} for {what}; the last probe saw: {value}");
            }

            await timer.WaitForNextTickAsync();
        }
    }
}
