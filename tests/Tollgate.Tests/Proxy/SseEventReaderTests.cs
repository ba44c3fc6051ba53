using System.Text;
using Tollgate.Proxy;

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
        Assert.Equal(": keep-alive\n\n", Encoding.UTF8.GetString(comment!.Value.Raw));
        Assert.False(reader.HasBufferedEvent);
    }

    private static SseEventReader Reader(string text) => new(new MemoryStream(Encoding.UTF8.GetBytes(text)));

    private static string? Data(SseEvent? sse) => sse?.Data is { } data ? Encoding.UTF8.GetString(data) : null;
}
