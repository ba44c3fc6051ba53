namespace Tollgate.Upstreams;

/// <summary>One request's use of an <see cref="UpstreamClient"/>: the client stays undisposed until this is disposed.</summary>
internal sealed class UpstreamLease(UpstreamClient client) : IDisposable
{
    private int _disposed;

    /// <summary>The client, valid until <see cref="Dispose"/>.</summary>
    public UpstreamClient Client => client;

    /// <summary>Ends the use (once, however often it is called).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            client.Release();
        }
    }
}
