using Microsoft.Extensions.Primitives;
using Tollgate.Proxy;

namespace Tollgate.Tests.Proxy;

public sealed class CacheControlDirectivesTests
{
    [Theory]
    [InlineData(null, false, false)]
    [InlineData("", false, false)]
    [InlineData("no-cache", true, false)]
    [InlineData("No-Store", false, true)]
    [InlineData("max-age=0, no-cache", true, false)]
    [InlineData(" no-store ,no-cache ", true, true)]
    [InlineData("no-cache=\"set-cookie\"", true, false)]
    [InlineData("no-cacheable, private, x-no-store", false, false)]
    public void Read_FindsTheDirectivesTheCacheHonours(string? value, bool noCache, bool noStore)
    {
        Assert.Equal(new CacheControlDirectives(noCache, noStore), CacheControlDirectives.Read(value));
    }

    [Fact]
    public void Read_SeveralHeaderLines_AreAllRead()
    {
        Assert.Equal(new CacheControlDirectives(true, true), CacheControlDirectives.Read(new StringValues(["max-age=5", "no-cache", "no-store"])));
    }
}
