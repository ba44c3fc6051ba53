using Tollgate.Configuration;
using Tollgate.Protocol;

namespace Tollgate.Upstreams;

/// <summary>
/// A configured upstream's client, base address and credential, with a count of its uses: the table's own
/// reference plus one per <see cref="UpstreamLease"/>. The <see cref="HttpClient"/> is disposed when the count falls
/// to zero, that is, once the client has been replaced and its last request has ended.
/// </summary>
internal sealed class UpstreamClient(string name, UpstreamOptions options, HttpClient http, Uri baseAddress, string? apiKey, IUpstreamHandlerFactory kind)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Uri> _addresses = new(StringComparer.Ordinal);
    private int _uses = 1;

    public string Name => name;

    public UpstreamOptions Options => options;

    public HttpClient Http => http;

    public Uri BaseAddress => baseAddress;

    public string? ApiKey => apiKey;

    /// <summary>Adds the upstream's credential (and its kind's required headers) to <paramref name="message"/>.</summary>
    public void PrepareRequest(HttpRequestMessage message) => kind.PrepareRequest(message, apiKey, options);

    /// <summary>The path of a request for <paramref name="upstreamModel"/> to <paramref name="endpoint"/> (see <see cref="IUpstreamHandlerFactory.PathFor"/>).</summary>
    public string PathFor(string protocolPath, ApiEndpoint endpoint, string upstreamModel) => kind.PathFor(protocolPath, endpoint, upstreamModel, options);

    /// <summary>The address of <paramref name="path"/> under the base address, resolved once per path.</summary>
    public Uri AddressOf(string path) => _addresses.GetOrAdd(path, static (p, b) => new Uri(b, p), baseAddress);

    /// <summary>Whether the client was built with the connection settings of <paramref name="other"/>.</summary>
    public bool Matches(UpstreamOptions other) =>
        other.Kind == Options.Kind && other.BaseUrl == Options.BaseUrl && other.ApiKeyEnv == Options.ApiKeyEnv
        && other.ConnectTimeout == Options.ConnectTimeout;

    /// <summary>Counts one more use; false when the client is already disposed.</summary>
    public bool TryAcquire()
    {
        int uses = Volatile.Read(ref _uses);
        while (uses > 0)
        {
            int seen = Interlocked.CompareExchange(ref _uses, uses + 1, uses);
            if (seen == uses)
            {
                return true;
            }

            uses = seen;
        }

        return false;
    }

    /// <summary>Ends one use; the last one disposes the client and its handler.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _uses) == 0)
        {
            http.Dispose();
        }
    }
}
