using System.Buffers;
using System.IO.Pipelines;

namespace Tollgate.Proxy;

/// <summary>One server-sent event: its bytes as received (relayed verbatim) and its data payload.</summary>
internal readonly record struct SseEvent(byte[] Raw, byte[]? Data);

/// <summary>
/// Splits an upstream <c>text/event-stream</c> into events as they arrive (never waiting for the whole stream).
/// An event ends at a blank line; <c>data:</c> lines are joined with '\n' as the SSE specification says.
/// </summary>
internal sealed class SseEventReader(Stream stream) : IAsyncDisposable
{
    private const int MaxEventBytes = 4 * 1024 * 1024;
    private readonly PipeReader _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));

    /// <summary>
    /// Whether the event <see cref="ReadAsync"/> returned last was followed by another whole event already received:
    /// the next read returns at once, so a relay may write both before it flushes.
    /// </summary>
    public bool HasBufferedEvent { get; private set; }

    /// <summary>The next event, or null at the end of the stream.</summary>
    public async ValueTask<SseEvent?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryParseEvent(ref buffer, out var sse))
            {
                HasBufferedEvent = ContainsEvent(buffer);
                _reader.AdvanceTo(buffer.Start);
                return sse;
            }

            if (result.IsCompleted)
            {
                _reader.AdvanceTo(buffer.End);
                return null;
            }

            if (buffer.Length > MaxEventBytes)
            {
                throw new IOException("An upstream stream event exceeded 4 MiB.");
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public ValueTask DisposeAsync() => _reader.CompleteAsync();

    private static bool TryParseEvent(ref ReadOnlySequence<byte> buffer, out SseEvent sse)
    {
        var reader = new SequenceReader<byte>(buffer);
        List<byte[]>? data = null;
        bool any = false;
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            if (line.Length > 0 && line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r')
            {
                line = line.Slice(0, line.Length - 1);
            }

            if (line.Length == 0)
            {
                if (!any)
                {
                    continue; // stray blank line between events
                }

                var raw = buffer.Slice(0, reader.Position).ToArray();
                buffer = buffer.Slice(reader.Position);
                sse = new SseEvent(raw, Join(data));
                return true;
            }

            any = true;
            var span = line.IsSingleSegment ? line.FirstSpan : line.ToArray();
            if (span.StartsWith("data:"u8))
            {
                var payload = span[5..];
                if (payload.Length > 0 && payload[0] == (byte)' ')
                {
                    payload = payload[1..];
                }

                (data ??= []).Add(payload.ToArray());
            }
        }

        sse = default;
        return false;
    }

    // Whether the buffer holds a whole event (a non-blank line, then a blank one), without copying anything.
    private static bool ContainsEvent(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        bool any = false;
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            bool blank = line.Length == 0 || (line.Length == 1 && line.FirstSpan[0] == (byte)'\r');
            if (blank && any)
            {
                return true;
            }

            any |= !blank;
        }

        return false;
    }

    private static byte[]? Join(List<byte[]>? parts)
    {
        if (parts is null)
        {
            return null;
        }

        if (parts.Count == 1)
        {
            return parts[0];
        }

        var joined = new List<byte>();
        for (int i = 0; i < parts.Count; i++)
        {
            if (i > 0)
            {
                joined.Add((byte)'\n');
            }

            joined.AddRange(parts[i]);
        }

        return [.. joined];
    }
}
