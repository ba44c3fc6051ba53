using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Tollgate.FunctionalTests.Infrastructure;

/// <summary>
/// Observes, per <c>x-request-id</c>, the moment the gateway's server sees the caller's connection go
/// (<c>RequestAborted</c>), so a test can act after a caller left and before the upstream moves on, on any machine.
/// </summary>
internal sealed class CallerDepartures : IStartupFilter
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _departures = new(StringComparer.Ordinal);

    /// <summary>Completes when the server has seen the caller of <paramref name="requestId"/> leave.</summary>
    public Task WaitAsync(string requestId) => Departure(requestId).Task.WaitAsync(TimeSpan.FromSeconds(30));

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, inner) =>
        {
            if (context.Request.Headers["x-request-id"] is [{ } id])
            {
                var departure = Departure(id);
                using var registration = context.RequestAborted.Register(() => departure.TrySetResult());
                await inner(context);
            }
            else
            {
                await inner(context);
            }
        });
        next(app);
    };

    private TaskCompletionSource Departure(string requestId) =>
        _departures.GetOrAdd(requestId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
