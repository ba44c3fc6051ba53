using System.Collections.Concurrent;
using Tollgate.Configuration;

namespace Tollgate.Resilience;

/// <summary>
/// The <see cref="UpstreamResilience"/> of each upstream that has a breaker, retries or a cool-down, created on first
/// use and kept across configuration reloads while its settings stay the same (a changed setting starts it afresh).
/// An upstream with none of them has none: its requests pay nothing for resilience.
/// </summary>
internal sealed class UpstreamResilienceRegistry(TimeProvider time, ILogger<UpstreamResilience> logger)
{
    private readonly ConcurrentDictionary<string, UpstreamResilience> _upstreams = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The resilience of upstream <paramref name="name"/> as <paramref name="options"/> configure it; null when they configure none.</summary>
    public UpstreamResilience? Get(string name, UpstreamOptions options)
    {
        if (!options.HasResilience)
        {
            return null;
        }

        if (_upstreams.TryGetValue(name, out var existing) && existing.Matches(options))
        {
            return existing;
        }

        lock (_lock)
        {
            if (_upstreams.TryGetValue(name, out existing) && existing.Matches(options))
            {
                return existing;
            }

            var created = new UpstreamResilience(name, options, time, logger);
            _upstreams[name] = created;
            return created;
        }
    }
}
