using System.Net;
using System.Net.Sockets;

namespace Tollgate.Proxy;

/// <summary>
/// The client address limits count: the socket's peer, or — only when the peer is a configured trusted proxy — the
/// nearest untrusted address in <c>X-Forwarded-For</c>. IPv6 addresses are grouped by /64 (one subscriber's prefix).
/// </summary>
internal static class SourceAddress
{
    public static string? Resolve(HttpContext http, IReadOnlyList<string> trustedProxies)
    {
        var peer = http.Connection.RemoteIpAddress;
        if (peer is null)
        {
            return null;
        }

        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }

        if (trustedProxies.Count > 0 && IsTrusted(peer, trustedProxies))
        {
            string? forwarded = http.Request.Headers["X-Forwarded-For"];
            if (!string.IsNullOrEmpty(forwarded))
            {
                var hops = forwarded.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                for (int i = hops.Length - 1; i >= 0; i--)
                {
                    if (!IPAddress.TryParse(hops[i], out var hop))
                    {
                        break;
                    }

                    peer = hop.IsIPv4MappedToIPv6 ? hop.MapToIPv4() : hop;
                    if (!IsTrusted(peer, trustedProxies))
                    {
                        break;
                    }
                }
            }
        }

        return Group(peer);
    }

    public static string Group(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    private static bool IsTrusted(IPAddress address, IReadOnlyList<string> trustedProxies)
    {
        foreach (string entry in trustedProxies)
        {
            if (IPNetwork.TryParse(entry, out var network) ? network.Contains(address) : IPAddress.TryParse(entry, out var single) && single.Equals(address))
            {
                return true;
            }
        }

        return false;
    }
}
