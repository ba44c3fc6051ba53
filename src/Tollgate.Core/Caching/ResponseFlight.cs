namespace Tollgate.Caching;

/// <summary>
/// One upstream call that identical requests wait for (<see cref="ResponseFlights"/>): its leader makes the call, and
/// its <see cref="Answer"/> completes with the stored answer, or with null when the leader's answer cannot be shared
/// (an error, a cut stream, an answer that may not be stored).
/// </summary>
public sealed class ResponseFlight
{
    private readonly TaskCompletionSource<CachedAnswer?> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ResponseFlight(ResponseCacheKey key) => Key = key;

    /// <summary>The key every request of the flight shares.</summary>
    public ResponseCacheKey Key { get; }

    /// <summary>The leader's answer, or null when it failed.</summary>
    public Task<CachedAnswer?> Answer => _answer.Task;

    internal bool TryComplete(CachedAnswer? answer) => _answer.TrySetResult(answer);
}
