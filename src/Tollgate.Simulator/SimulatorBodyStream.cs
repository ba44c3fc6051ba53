using System.Buffers;
using System.IO.Pipelines;

namespace Tollgate.Simulator;

/// <summary>
/// The body of an in-process response, read from the exchange's pipe as it is written. After a cut it hands out
/// every byte sent before the cut and then throws <see cref="IOException"/> where a real connection would drop.
/// Disposing it tells the exchange the client has gone.
/// </summary>
internal sealed class SimulatorBodyStream(PipeReader reader, SimulatorHandlerExchange exchange) : Stream
{
    private int _disposed;

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                int count = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                reader.AdvanceTo(data.GetPosition(count));
                return count;
            }

            reader.AdvanceTo(data.End);
            if (result.IsCompleted)
            {
                return exchange.CutError is { } cut ? throw cut : 0;
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            reader.Complete();
            exchange.OnBodyDisposed();
        }

        base.Dispose(disposing);
    }
}
