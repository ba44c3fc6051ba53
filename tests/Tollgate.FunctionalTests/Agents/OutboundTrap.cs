using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tollgate.FunctionalTests.Agents;

/// <summary>
/// A loopback HTTP proxy that refuses everything and remembers what it was asked for. An agent run with its
/// environment (<see cref="Environment"/>) reaches the gateway directly (<c>NO_PROXY</c> names the gateway's host,
/// 127.0.0.1) and every other connection it opens through its HTTP stack comes here instead of leaving the machine:
/// a <c>CONNECT host:443</c> for HTTPS, an absolute URI for plain HTTP. Both agents honour the variables — Codex CLI
/// through reqwest (and the <c>git</c> it runs), Claude Code through its own proxy agent — so an empty
/// <see cref="Requests"/> after a run shows the agent talked to nothing but the gateway.
/// </summary>
internal sealed class OutboundTrap : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<string> _requests = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public OutboundTrap()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The first line of each request the trap received (<c>CONNECT github.com:443 HTTP/1.1</c>), in order.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The proxy variables, in both spellings, that send an agent's traffic other than to <paramref name="gateway"/> here.</summary>
    public IReadOnlyDictionary<string, string> Environment(Uri gateway)
    {
        Assert.True(IPAddress.TryParse(gateway.Host, out var address) && IPAddress.IsLoopback(address), $"the gateway is on loopback: {gateway}");
        string proxy = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in (string[])["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"])
        {
            environment[name] = proxy;
            environment[name.ToLowerInvariant()] = proxy;
        }

        // A bare host: reqwest does not match a NO_PROXY entry with a port against an address.
        environment["NO_PROXY"] = environment["no_proxy"] = gateway.Host;
        return environment;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = RefuseAsync(client);
        }
    }

    private async Task RefuseAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var received = new List<byte>();
            var buffer = new byte[1024];
            using var read = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            read.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                while (received.Count < 8192 && !received.Contains((byte)'\n'))
                {
                    int n = await stream.ReadAsync(buffer, read.Token);
                    if (n == 0)
                    {
                        break;
                    }

                    received.AddRange(buffer.AsSpan(0, n));
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
            }

            string text = Encoding.ASCII.GetString([.. received]);
            int end = text.IndexOf('\n', StringComparison.Ordinal);
            lock (_requests)
            {
                _requests.Add((end < 0 ? text : text[..end]).TrimEnd('\r'));
            }

            try
            {
                await stream.WriteAsync("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
            }
        }
    }
}
