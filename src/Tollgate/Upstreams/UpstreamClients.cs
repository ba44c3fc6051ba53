using System.Collections.Concurrent;
using System.Collections.Frozen;
using Tollgate.Configuration;

namespace Tollgate.Upstreams;

/// <summary>
/// One pooled <see cref="HttpClient"/> per upstream, over the handler that the <see cref="IUpstreamHandlerFactory"/>
/// registered for the upstream's kind creates. A client is rebuilt when its connection settings change on reload.
/// </summary>
/// <remarks>
/// A replaced client is disposed when the last request using it ends, never while one does: a request holds an
/// <see cref="UpstreamLease"/> for as long as it talks to the upstream (a stream until its last byte), and this table
/// holds one reference of its own until it replaces the client. Uses are counted rather than waited out with a fixed
/// delay because a stream has no upper bound on its length, and disposing a handler under a live response cuts it.
/// </remarks>
internal sealed class UpstreamClients : IDisposable
{
    private readonly FrozenDictionary<string, IUpstreamHandlerFactory> _factories;
    private readonly ConcurrentDictionary<string, UpstreamClient> _clients = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Creates the table; when two factories serve the same kind, the one registered last wins.</summary>
    public UpstreamClients(IEnumerable<IUpstreamHandlerFactory> factories)
    {
        var byKind = new Dictionary<string, IUpstreamHandlerFactory>(StringComparer.Ordinal);
        foreach (var factory in factories)
        {
            byKind[factory.Kind] = factory;
        }

        _factories = byKind.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>
    /// The client of upstream <paramref name="name"/> as <paramref name="options"/> configure it, kept alive until the
    /// lease is disposed. Dispose the lease once the response has been read to its end (or abandoned).
    /// </summary>
    public UpstreamLease Rent(string name, UpstreamOptions options)
    {
        while (true)
        {
            var client = Current(name, options);
            if (client.TryAcquire())
            {
                return new UpstreamLease(client);
            }

            // Replaced and drained between the lookup and the acquire: the table holds its successor.
        }
    }

    /// <summary>
    /// Whether an upstream of <paramref name="options"/>' kind serves <paramref name="endpoint"/> (without building a
    /// client), itself or through a translation: a request the upstream cannot take is refused before anything is reserved.
    /// </summary>
    public bool Serves(UpstreamOptions options, Protocol.ApiEndpoint endpoint) => ProtocolFor(options, endpoint) is not null;

    /// <summary>
    /// The upstream side of the protocol that serves <paramref name="endpoint"/> on an upstream of
    /// <paramref name="options"/> (without building a client; the one the forward step uses): the kind's own when the
    /// upstream speaks the endpoint's API (<see cref="UpstreamOptions.Apis"/>), else a translation to an API it speaks
    /// (<see cref="Protocol.Translation.ProtocolTranslations"/>), else null.
    /// </summary>
    public Protocol.IUpstreamProtocol? ProtocolFor(UpstreamOptions options, Protocol.ApiEndpoint endpoint)
    {
        if (!_factories.TryGetValue(options.Kind, out var factory))
        {
            return null;
        }

        return Native(factory, options, endpoint)
            ?? Protocol.Translation.ProtocolTranslations.Find(endpoint, target => Native(factory, options, target));

        static Protocol.IUpstreamProtocol? Native(IUpstreamHandlerFactory factory, UpstreamOptions options, Protocol.ApiEndpoint endpoint) =>
            UpstreamApis.Allows(options, endpoint) ? factory.ProtocolFor(endpoint)?.ForEndpoint(endpoint) : null;
    }

    /// <summary>Releases every client; one still in use is disposed when its last lease ends.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var name in _clients.Keys)
            {
                if (_clients.TryRemove(name, out var client))
                {
                    client.Release();
                }
            }
        }
    }

    private UpstreamClient Current(string name, UpstreamOptions options)
    {
        if (_clients.TryGetValue(name, out var existing) && existing.Matches(options))
        {
            return existing;
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_clients.TryGetValue(name, out existing) && existing.Matches(options))
            {
                return existing;
            }

            var created = Create(name, options);
            _clients[name] = created;
            existing?.Release();
            return created;
        }
    }

    private UpstreamClient Create(string name, UpstreamOptions options)
    {
        if (!_factories.TryGetValue(options.Kind, out var factory))
        {
            throw new InvalidOperationException(
                $"No handler is registered for upstream kind '{options.Kind}' (upstream '{name}'). Registered: {string.Join(", ", _factories.Keys)}.");
        }

        string? apiKey = options.ApiKeyEnv is { Length: > 0 } env ? Environment.GetEnvironmentVariable(env) : null;
        var http = new HttpClient(factory.CreateHandler(name, options), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        return new UpstreamClient(name, options, http, factory.GetBaseAddress(name, options), apiKey, factory);
    }
}
