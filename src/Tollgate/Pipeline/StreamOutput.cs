using System.Buffers;

namespace Tollgate.Pipeline;

/// <summary>
/// The caller's side of a started stream: every write of the relay goes through it, and while the upstream is silent
/// for <c>Gateway:StreamKeepAliveInterval</c> (a long time to first token, a pause mid-answer) it writes the caller
/// protocol's keep-alive (<see cref="Protocols.ICallerProtocol.KeepAlive"/>) so that proxies and clients between the
/// caller and the gateway do not give up on a silent connection. The time comes from the injected
/// <see cref="TimeProvider"/>; writes never overlap (a keep-alive goes only between two whole events).
/// </summary>
internal sealed class StreamOutput : IAsyncDisposable
{
    private readonly RequestContext _context;
    private readonly UpstreamCall _call;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly SemaphoreSlim? _gate;
    private readonly ITimer? _timer;
    private long _lastWrite;
    private bool _closed;

    public StreamOutput(RequestContext context, UpstreamCall call, TimeProvider time, TimeSpan keepAliveInterval)
    {
        _context = context;
        _call = call;
        _time = time;
        _interval = keepAliveInterval;
        _lastWrite = time.GetTimestamp();
        if (keepAliveInterval > TimeSpan.Zero)
        {
            _gate = new SemaphoreSlim(1, 1);
            _timer = time.CreateTimer(static state => ((StreamOutput)state!).OnTick(), this, keepAliveInterval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>How many keep-alives were written.</summary>
    public int KeepAlives { get; private set; }

    /// <summary>
    /// Writes <paramref name="bytes"/> and, unless <paramref name="flush"/> is false, flushes them with whatever was
    /// written before; an empty write flushes what is pending (the headers). The relay passes false only while the
    /// next event has already arrived, so events that came together go out in one send and none waits for more input.
    /// A caller that left is not written to.
    /// </summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, bool flush = true)
    {
        if (_gate is null)
        {
            await WriteCoreAsync(bytes, flush).ConfigureAwait(false);
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await WriteCoreAsync(bytes, flush).ConfigureAwait(false);
            _lastWrite = _time.GetTimestamp();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the keep-alives; a keep-alive being written finishes first.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_gate is null)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        _closed = true;
        _gate.Release();
        await _timer!.DisposeAsync().ConfigureAwait(false);
    }

    private void OnTick() => _ = TickAsync();

    private async Task TickAsync()
    {
        if (!_gate!.Wait(0))
        {
            // The relay is writing: that write counts as activity; look again after a full interval.
            Schedule(_interval);
            return;
        }

        try
        {
            if (_closed || _context.ClientAborted)
            {
                return;
            }

            var idle = _time.GetElapsedTime(_lastWrite);
            if (idle >= _interval)
            {
                await WriteCoreAsync(_context.Protocol.KeepAlive, flush: true).ConfigureAwait(false);
                KeepAlives++;
                _lastWrite = _time.GetTimestamp();
                idle = TimeSpan.Zero;
            }

            Schedule(_interval - idle);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            // The response ended under the keep-alive: nothing more to keep alive.
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Schedule(TimeSpan due)
    {
        try
        {
            _timer!.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task WriteCoreAsync(ReadOnlyMemory<byte> bytes, bool flush)
    {
        if (_context.ClientAborted)
        {
            return;
        }

        var http = _context.Http;
        try
        {
            // Through the response's pipe: a write is a copy into its buffer, a flush one send of all that is pending.
            var body = http.Response.BodyWriter;
            if (!bytes.IsEmpty)
            {
                body.Write(bytes.Span);
            }

            if (flush)
            {
                await body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            _context.ClientAborted = true;
            _call.CallerLeft();
        }
    }
}
