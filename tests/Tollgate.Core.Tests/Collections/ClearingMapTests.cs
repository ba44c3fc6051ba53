using Tollgate.Collections;

namespace Tollgate.Core.Tests.Collections;

public sealed class ClearingMapTests
{
    [Fact]
    public void Set_PastTheCapacity_EmptiesTheMapAndKeepsTheNewEntry()
    {
        var map = new ClearingMap<int, string>(capacity: 3);
        map.Set(1, "a");
        map.Set(2, "b");
        map.Set(3, "c");

        map.Set(4, "d");

        Assert.Equal(1, map.Count);
        Assert.False(map.TryGetValue(1, out _));
        Assert.True(map.TryGetValue(4, out var value));
        Assert.Equal("d", value);
    }

    [Fact]
    public void Set_AKeyAgain_ReplacesItsValueWithoutCountingItTwice()
    {
        var map = new ClearingMap<string, int>(capacity: 10, StringComparer.Ordinal);

        map.Set("k", 1);
        map.Set("k", 2);

        Assert.Equal(1, map.Count);
        Assert.True(map.TryGetValue("k", out int value));
        Assert.Equal(2, value);
    }

    [Fact]
    public void GetAlternateLookup_BySpan_FindsAStringKey()
    {
        var map = new ClearingMap<string, int>(capacity: 10, StringComparer.Ordinal);
        map.Set("there", 7);
        var bySpan = map.GetAlternateLookup<ReadOnlySpan<char>>();

        Assert.True(bySpan.TryGetValue(" there!".AsSpan(1, 5), out int value));
        Assert.Equal(7, value);
    }

    [Fact]
    public async Task Set_FromManyThreads_StaysWithinTheCapacityAndItsConcurrentAdders()
    {
        var map = new ClearingMap<int, int>(capacity: 64);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                map.Set((t * 20_000) + i, i);
                Assert.InRange(map.Count, 0, 64 + 8);
            }
        })));
    }
}
