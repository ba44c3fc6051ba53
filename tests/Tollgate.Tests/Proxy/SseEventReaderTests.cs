using System.Text;
using Tollgate.Proxy;
using Tollgate.Tests.Pipeline;

namespace Tollgate.Tests.Proxy;

public sealed class SseEventReaderTests
{
    [Fact]
    public async Task ReadAsync_EventsThatCameTogether_EachSaysWhetherAnotherWholeOneIsAlreadyHere()
    {
        await using var reader = Reader("data: one\n\ndata: two\r\n\r\ndata: thr");

        var first = await reader.ReadAsync(CancellationToken.None);
        Assert.Equal("one", Data(first));
        Assert.True(reader.HasBufferedEvent);

        var second = await reader.ReadAsync(CancellationToken.None);
        Assert.Equal("two", Data(second));
        Assert.False(reader.HasBufferedEvent); // only part of the third has arrived
    }

    [Fact]
    public async Task ReadAsync_OnlyBlankLinesOrCommentsAfter_NoBufferedEvent()
    {
        await using var reader = Reader("data: one\n\n\n\n");

        Assert.Equal("one", Data(await reader.ReadAsync(CancellationToken.None)));
        Assert.False(reader.HasBufferedEvent);
        Assert.Null(await reader.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_ACommentEventFollows_ItCountsAsAnEvent()
    {
        await using var reader = Reader("data: one\n\n: keep-alive\n\n");

        Assert.Equal("one", Data(await reader.ReadAsync(CancellationToken.None)));
        Assert.True(reader.HasBufferedEvent);
        var comment = await reader.ReadAsync(CancellationToken.None);
        Assert.Equal(": keep-alive\n\n", Encoding.UTF8.GetString(comment!.Value.Raw.Span));
        Assert.False(reader.HasBufferedEvent);
    }

    [Fact]
    public async Task ReadAsync_SeveralDataLines_JoinedWithNewlinesAndRawKeptAsReceived()
    {
        const string text = "event: delta\r\ndata: one\r\ndata:two\ndata: \n: note\ndata:  four\n\ndata: five\n\n";
        await using var reader = Reader(text);

        var first = await reader.ReadAsync(CancellationToken.None);
        Assert.Equal("one\ntwo\n\n four", Data(first));
        Assert.Equal(text[..text.IndexOf("data: five", StringComparison.Ordinal)], Encoding.UTF8.GetString(first!.Value.Raw.Span));
        Assert.Equal("five", Data(await reader.ReadAsync(CancellationToken.None)));
        Assert.Null(await reader.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_EventWithoutDataLine_HasNoData()
    {
        await using var reader = Reader("event: ping\nid: 7\n\n");

        var sse = await reader.ReadAsync(CancellationToken.None);

        Assert.Null(sse!.Value.Data);
        Assert.Equal("event: ping\nid: 7\n\n", Encoding.UTF8.GetString(sse.Value.Raw.Span));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4093)]
    [InlineData(65536)]
    public async Task ReadAsync_EventsSplitAcrossReadsAndBufferSegments_EachReadWhole(int seed)
    {
        // Events of every size from a few bytes to 40 KB, some with several data lines, delivered in reads of random
        // sizes: they cross the reader's 16 KB segments anywhere, inside "data:" included. Each event read must be
        // exactly the bytes sent, however it lies in the buffer.
        var random = new Random(seed);
        var expected = new List<(string Raw, string? Data)>();
        var all = new StringBuilder();
        for (int i = 0; i < 300; i++)
        {
            string payload = new((char)('a' + (i % 26)), random.Next(0, i % 10 == 0 ? 40_000 : 300));
            string raw;
            string? data;
            switch (i % 4)
            {
                case 0:
                    raw = $"data: {payload}\n\n";
                    data = payload;
                    break;
                case 1:
                    raw = $"data: {payload}\r\ndata: {i}\r\n\r\n";
                    data = $"{payload}\n{i}";
                    break;
                case 2:
                    raw = $": comment {i}\n\n";
                    data = null;
                    break;
                default:
                    raw = $"event: x\ndata:{payload}\n\n";
                    data = payload;
                    break;
            }

            expected.Add((raw, data));
            all.Append(raw);
        }

        await using var reader = new SseEventReader(new RandomReadsStream(Encoding.UTF8.GetBytes(all.ToString()), random));
        foreach (var (raw, data) in expected)
        {
            var sse = await reader.ReadAsync(CancellationToken.None);
            Assert.NotNull(sse);
            Assert.Equal(raw, Encoding.UTF8.GetString(sse.Value.Raw.Span));
            Assert.Equal(data, Data(sse));
        }

        Assert.Null(await reader.ReadAsync(CancellationToken.None));
    }

    private static SseEventReader Reader(string text) => new(new MemoryStream(Encoding.UTF8.GetBytes(text)));

    private static string? Data(SseEvent? sse) => sse?.Data is { } data ? Encoding.UTF8.GetString(data.Span) : null;

    // Hands out the bytes in reads of 1 byte to 20 KB, at random.
    private sealed class RandomReadsStream(byte[] bytes, Random random) : ReadOnlyTestStream
    {
        private int _position;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = Math.Min(Math.Min(buffer.Length, random.Next(1, 20_000)), bytes.Length - _position);
            bytes.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return ValueTask.FromResult(n);
        }
    }
}
