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
    public void HexId_MoreThan64Bytes_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BufferedRandom.HexId("x_", 65));
    }
}
