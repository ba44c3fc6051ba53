using System.Net;
using Microsoft.AspNetCore.Http;
using Tollgate.Proxy;

namespace Tollgate.Tests.Proxy;

public sealed class SourceAddressTests
{
    [Theory]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    [InlineData("192.0.2.7", "192.0.2.7")]
    public void Group_IPv6ByPrefix64_IPv4AsIs(string address, string expected) =>
        Assert.Equal(expected, SourceAddress.Group(IPAddress.Parse(address)));

    [Fact]
    public void Resolve_ForwardedForFromUntrustedPeer_Ignored()
    {
        var http = Context("198.51.100.1", "203.0.113.9");
        Assert.Equal("198.51.100.1", SourceAddress.Resolve(http, ["10.0.0.0/8"]));
    }

    [Fact]
    public void Resolve_ForwardedForFromTrustedProxy_NearestUntrustedHopWins()
    {
        var http = Context("10.0.0.5", "203.0.113.9, 198.51.100.77, 10.0.0.9");
        Assert.Equal("198.51.100.77", SourceAddress.Resolve(http, ["10.0.0.0/8"]));
    }

    [Fact]
    public void Resolve_IPv4MappedPeer_ReportedAsIPv4()
    {
        var http = Context("::ffff:192.0.2.7", null);
        Assert.Equal("192.0.2.7", SourceAddress.Resolve(http, []));
    }

    private static DefaultHttpContext Context(string peer, string? forwarded)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwarded is not null)
        {
            http.Request.Headers["X-Forwarded-For"] = forwarded;
        }

        return http;
    }
}
