using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tollgate.Hosting;

/// <summary>
/// Binds Kestrel to explicit endpoints from a <c>--urls</c>-style list (<c>http://127.0.0.1:8080;http://[::1]:8080</c>).
/// Port 0 picks a free port. TLS is terminated in front of the gateway, so only <c>http</c> is accepted.
/// </summary>
internal static class ListenAddresses
{
    public static void Apply(KestrelServerOptions kestrel, string urls)
    {
        foreach (string url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string normalized = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                throw new ArgumentException($"'{url}' is not an http URL such as http://127.0.0.1:8080 (TLS is terminated in front of the gateway).", nameof(urls));
            }

            if (uri.Host == "localhost")
            {
                kestrel.ListenLocalhost(uri.Port);
            }
            else if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
            {
                kestrel.Listen(address, uri.Port);
            }
            else
            {
                throw new ArgumentException($"'{url}': listen on an IP address or localhost, not a host name.", nameof(urls));
            }
        }
    }
}
