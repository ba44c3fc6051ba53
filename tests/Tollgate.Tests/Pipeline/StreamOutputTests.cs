using Tollgate.Pipeline;

namespace Tollgate.Tests.Pipeline;

/// <summary>Keep-alives of a started stream, on a fake clock: sent only after a full interval of silence, never between a write's bytes, never after the end.</summary>
public sealed class StreamOutputTests : IAsyncLifetime
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(10);
    private readonly StepHarness _harness = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Silence_GetsAKeepAliveEachInterval_ActivityPostponesIt()
    {
        var context = _harness.Context();
        await using var call = _harness.Call("", "text/event-stream");
        var output = new StreamOutput(context, call, _harness.Time, s_interval);
        await output.WriteAsync("data: 1\n\n"u8.ToArray());

        _harness.Time.Advance(TimeSpan.FromSeconds(9));
        await output.WriteAsync("data: 2\n\n"u8.ToArray());
        _harness.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, output.KeepAlives);

        _harness.Time.Advance(TimeSpan.FromSeconds(1));
        await WaitForAsync(() => output.KeepAlives == 1);
        _harness.Time.Advance(s_interval);
        await WaitForAsync(() => output.KeepAlives == 2);
        await output.DisposeAsync();
        _harness.Time.Advance(s_interval * 3);

        Assert.Equal(2, output.KeepAlives);
        Assert.Equal("data: 1\n\ndata: 2\n\n: keep-alive\n\n: keep-alive\n\n", StepHarness.ResponseText(context));
    }

    [Fact]
    public async Task ZeroInterval_SendsNoKeepAlives()
    {
        var context = _harness.Context();
        await using var call = _harness.Call("", "text/event-stream");
        await using var output = new StreamOutput(context, call, _harness.Time, TimeSpan.Zero);

        await output.WriteAsync("data: 1\n\n"u8.ToArray());
        _harness.Time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal((0, "data: 1\n\n"), (output.KeepAlives, StepHarness.ResponseText(context)));
    }

    [Fact]
    public async Task CallerGone_NoKeepAlive()
    {
        var context = _harness.Context();
        await using var call = _harness.Call("", "text/event-stream");
        await using var output = new StreamOutput(context, call, _harness.Time, s_interval);
        context.ClientAborted = true;

        _harness.Time.Advance(s_interval * 2);

        Assert.Equal((0, ""), (output.KeepAlives, StepHarness.ResponseText(context)));
    }

    // The keep-alive is written by the timer's callback, which may finish its (memory-stream) write asynchronously.
    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Yield();
        }

        Assert.True(condition());
    }
}
