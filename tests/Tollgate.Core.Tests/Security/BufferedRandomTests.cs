using Tollgate.Security;

namespace Tollgate.Core.Tests.Security;

public sealed class BufferedRandomTests
{
    [Fact]
    public void HexId_ManyAcrossRefills_PrefixedLowerHexAndAllDistinct()
    {
        // 12 bytes an id: a 256-byte buffer serves 21, so 5,000 ids cross about 240 refills.
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 5000; i++)
        {
            string id = BufferedRandom.HexId("res_", 12);
            Assert.Matches("^res_[0-9a-f]{24}$", id);
            Assert.True(ids.Add(id), $"{id} was handed out twice");
        }
    }

    [Fact]
    public async Task Fill_ManyThreadsAtOnce_NoBytesHandedOutTwice()
    {
        // Each thread has its own buffer: 8 threads × 2,000 draws of 8 bytes, no 64-bit value seen twice.
        var draws = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            var values = new ulong[2000];
            Span<byte> bytes = stackalloc byte[8];
            for (int i = 0; i < values.Length; i++)
            {
                BufferedRandom.Fill(bytes);
                values[i] = BitConverter.ToUInt64(bytes);
            }

            return values;
        })));

        var all = draws.SelectMany(v => v).ToArray();
        Assert.Equal(all.Length, all.Distinct().Count());
    }

    [Fact]
    public void Fill_LargerThanAQuarterOfTheBuffer_FilledDirectly()
    {
        var first = new byte[100];
        var second = new byte[100];

        BufferedRandom.Fill(first);
        BufferedRandom.Fill(second);

        Assert.NotEqual(first, second);
        Assert.Contains(first, b => b != 0);
    }

    [Fact]
    public void TimeOrderedHexId_TheMillisecondsInHexThenRandom_LaterSortsAfter()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(0x0193_4a5b_6c7d);

        string first = BufferedRandom.TimeOrderedHexId("res_", at, 8);
        string same = BufferedRandom.TimeOrderedHexId("res_", at, 8);
        string later = BufferedRandom.TimeOrderedHexId("res_", at.AddMilliseconds(1), 8);

        Assert.Matches("^res_01934a5b6c7d[0-9a-f]{16}$", first);
        Assert.Matches("^res_01934a5b6c7e[0-9a-f]{16}$", later);
        Assert.NotEqual(first, same);
        // Ordinal order follows time whatever the random part: both made at `at` sort before the later one.
        Assert.True(string.CompareOrdinal(first, later) < 0 && string.CompareOrdinal(same, later) < 0);
    }

    [Fact]
    public void TimeOrderedHexId_ManyInOneMillisecond_AllDistinctAndSortedByTimeAcrossDigits()
    {
        // A frozen clock (a test's FakeTimeProvider) still gets distinct ids; across a carry into the next hex digit
        // (…fff to …1000) the order still holds, as the field is of fixed width.
        var at = DateTimeOffset.FromUnixTimeMilliseconds(0xfff);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 5000; i++)
        {
            Assert.True(ids.Add(BufferedRandom.TimeOrderedHexId("res_", at, 8)));
        }

        Assert.True(string.CompareOrdinal(ids.First(), BufferedRandom.TimeOrderedHexId("res_", at.AddMilliseconds(1), 8)) < 0);
        Assert.StartsWith("req_000000001000", BufferedRandom.TimeOrderedHexId("req_", at.AddMilliseconds(1), 6), StringComparison.Ordinal);
    }

    [Fact]
    public void TimeOrderedHexId_BeforeTheEpoch_TimeFieldIsZero()
    {
        Assert.Matches("^x_000000000000[0-9a-f]{4}$", BufferedRandom.TimeOrderedHexId("x_", DateTimeOffset.MinValue, 2));
    }

    [Fact]
    public void HexId_MoreThan64Bytes_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BufferedRandom.HexId("x_", 65));
    }
}
