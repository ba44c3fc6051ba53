using System.Buffers;

namespace Tollgate.Proxy;

/// <summary>
/// An upstream response body read with an idle timeout: each read must make progress within the upstream's
/// <c>IdleTimeout</c>, so a stalled provider cannot hold a request (and its concurrency) forever.
/// </summary>
internal sealed class UpstreamBody : Stream
{
    private readonly Stream _inner;
    private readonly TimeSpan _idle;
    private readonly CancellationTokenSource _cts;

    public UpstreamBody(Stream inner, TimeSpan idle, CancellationToken outer)
    {
        _inner = inner;
        _idle = idle;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
    }

    /// <summary>Whether the last failure was the idle timeout (rather than the outer token or a cut).</summary>
    public bool TimedOut { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _cts.CancelAfter(_idle);
        try
        {
            return await _inner.ReadAsync(buffer, _cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
            TimedOut = true;
            throw;
        }
        finally
        {
            if (!_cts.IsCancellationRequested)
            {
                _cts.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous reads are not supported.");

    /// <summary>
    /// Reads to the end (up to <paramref name="limit"/> bytes) into one array. Complete is false when the body was cut
    /// or too large.
    /// </summary>
    /// <remarks>
    /// When <paramref name="expectedLength"/> (the response's Content-Length) is known and within the limit, the body is
    /// read into an array of exactly that length, and one more read of a single byte confirms its end: the array is the
    /// body, with no copy. A body longer than announced is read on as one of unknown length.
    /// </remarks>
    public async Task<(byte[] Body, bool Complete)> ReadAllAsync(long limit, long? expectedLength = null)
    {
        bool announced = expectedLength is > 0 and <= 16 * 1024 * 1024;
        bool sized = announced && expectedLength <= limit;
        // Announced past the limit: room for the limit and a byte, enough to find it is over.
        byte[] buffer = new byte[sized ? (int)expectedLength!.Value : announced ? (int)Math.Min(expectedLength!.Value, limit) + 1 : 4096];
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (sized)
                    {
                        // All that was announced: the end is a read that returns nothing (into a pooled byte).
                        sized = false;
                        byte[] probe = ArrayPool<byte>.Shared.Rent(1);
                        int more = await ReadAsync(probe.AsMemory(0, 1)).ConfigureAwait(false);
                        byte next = probe[0];
                        ArrayPool<byte>.Shared.Return(probe);
                        if (more == 0)
                        {
                            return (buffer, true);
                        }

                        Array.Resize(ref buffer, (int)Math.Min(Math.Max(buffer.Length * 2L, 4096), Array.MaxLength));
                        buffer[length++] = next;
                        if (length > limit)
                        {
                            return (buffer.AsSpan(0, length).ToArray(), false);
                        }

                        continue;
                    }

                    Array.Resize(ref buffer, (int)Math.Min(Math.Max(buffer.Length * 2L, 4096), Array.MaxLength));
                }

                int read = await ReadAsync(buffer.AsMemory(length)).ConfigureAwait(false);
                if (read == 0)
                {
                    return (length == buffer.Length ? buffer : buffer.AsSpan(0, length).ToArray(), true);
                }

                length += read;
                if (length > limit)
                {
                    return (buffer.AsSpan(0, length).ToArray(), false);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
        {
            return (buffer.AsSpan(0, length).ToArray(), false);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        _cts.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _cts.Dispose();
        }

        base.Dispose(disposing);
    }
}
