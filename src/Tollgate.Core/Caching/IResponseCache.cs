namespace Tollgate.Caching;

/// <summary>
/// Where stored answers live. The in-memory store (<see cref="InMemoryResponseCache"/>) serves one gateway process; a
/// shared backend (Redis) implements the same two operations and passes the same contract suite
/// (<c>ResponseCacheContractTests</c> in <c>tests/Tollgate.Stores.Contracts</c>). Time is passed in, never read from a
/// clock, so expiry is tested by moving a fake clock. Keys already separate tenants (the namespace is hashed into them);
/// a store keeps entries apart by key alone.
/// </summary>
public interface IResponseCache
{
    /// <summary>The answer stored under <paramref name="key"/> that has not expired at <paramref name="now"/>, or null.</summary>
    /// <param name="key">The request's key.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The stored answer, or null on a miss.</returns>
    ValueTask<CachedAnswer?> GetAsync(ResponseCacheKey key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="answer"/> under <paramref name="key"/> until <paramref name="expiresAt"/>, replacing what
    /// was there. A store with bounds may evict other entries to make room, or decline an entry larger than its bounds.
    /// </summary>
    /// <param name="key">The request's key.</param>
    /// <param name="answer">The answer to keep.</param>
    /// <param name="expiresAt">When it stops being served.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the answer is stored.</returns>
    ValueTask SetAsync(ResponseCacheKey key, CachedAnswer answer, DateTimeOffset expiresAt, DateTimeOffset now, CancellationToken cancellationToken);
}
