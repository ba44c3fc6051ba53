using System.Buffers;
using System.IO.Pipelines;

namespace Tollgate.Proxy;

/// <summary>
/// One server-sent event: its bytes as received (relayed verbatim) and its data payload, if it has a <c>data:</c>
/// line. Both are valid until the next read of the <see cref="SseEventReader"/> that returned them.
/// </summary>
internal readonly record struct SseEvent(ReadOnlyMemory<byte> Raw, ReadOnlyMemory<byte>? Data);

/// <summary>
/// Splits an upstream <c>text/event-stream</c> into events as they arrive (never waiting for the whole stream).
/// An event ends at a blank line; <c>data:</c> lines are joined with '\n' as the SSE specification says.
/// </summary>
/// <remarks>
/// An event is handed out where it lies in the reader's buffer, without a copy, and that buffer is released only at
/// the next read: a relay writes the event before it reads the next one. Only an event that spans two of the
/// buffer's segments, or one with several <c>data:</c> lines, is copied, into a scratch buffer the reader reuses.
/// </remarks>
internal sealed class SseEventReader(Stream stream) : IAsyncDisposable
{
    private const int MaxEventBytes = 4 * 1024 * 1024;
    private readonly PipeReader _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
    private ArrayBufferWriter<byte>? _rawCopy;
    private ArrayBufferWriter<byte>? _dataCopy;
    private SequencePosition _consumed;
    private bool _holding;

    /// <summary>
    /// Whether the event <see cref="ReadAsync"/> returned last was followed by another whole event already received:
    /// the next read returns at once, so a relay may write both before it flushes.
    /// </summary>
    public bool HasBufferedEvent { get; private set; }

    /// <summary>The next event, or null at the end of the stream. The event returned before is no longer valid.</summary>
    public async ValueTask<SseEvent?> ReadAsync(CancellationToken cancellationToken)
    {
        if (_holding)
        {
            _holding = false;
            _reader.AdvanceTo(_consumed);
        }

        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryParseEvent(buffer, out var sse, out var end))
            {
                // The event's bytes stay in the buffer until the next read.
                HasBufferedEvent = ContainsEvent(buffer.Slice(end));
                _consumed = end;
                _holding = true;
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

    private bool TryParseEvent(in ReadOnlySequence<byte> buffer, out SseEvent sse, out SequencePosition end)
    {
        var reader = new SequenceReader<byte>(buffer);
        ReadOnlySequence<byte> firstData = default;
        int dataLines = 0;
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

                end = reader.Position;
                var raw = buffer.Slice(0, end);
                ReadOnlyMemory<byte>? data = null;
                if (dataLines > 0)
                {
                    data = dataLines > 1 ? _dataCopy!.WrittenMemory
                        : firstData.IsSingleSegment ? firstData.First
                        : Copy(firstData, _dataCopy ??= new ArrayBufferWriter<byte>());
                }
                sse = new SseEvent(raw.IsSingleSegment ? raw.First : Copy(raw, _rawCopy ??= new ArrayBufferWriter<byte>()), data);
                return true;
            }

            any = true;
            if (DataPayload(line) is { } payload)
            {
                dataLines++;
                if (dataLines == 1)
                {
                    firstData = payload;
                    continue;
                }

                // More than one data line: joined with '\n' in the scratch buffer.
                var joined = _dataCopy ??= new ArrayBufferWriter<byte>();
                if (dataLines == 2)
                {
                    Copy(firstData, joined);
                }

                joined.Write("\n"u8);
                Append(payload, joined);
            }
        }

        sse = default;
        end = default;
        return false;
    }

    // The payload of a "data:" line (one leading space dropped, as the SSE specification says), or null for another line.
    private static ReadOnlySequence<byte>? DataPayload(in ReadOnlySequence<byte> line)
    {
        Span<byte> head = stackalloc byte[6];
        int n = (int)Math.Min(line.Length, head.Length);
        var start = line.FirstSpan.Length >= n ? line.FirstSpan[..n] : CopyHead(line, head[..n]);
        if (!start.StartsWith("data:"u8))
        {
            return null;
        }

        return line.Slice(start.Length > 5 && start[5] == (byte)' ' ? 6 : 5);
    }

    private static ReadOnlySpan<byte> CopyHead(in ReadOnlySequence<byte> line, Span<byte> head)
    {
        line.Slice(0, head.Length).CopyTo(head);
        return head;
    }

    private static ReadOnlyMemory<byte> Copy(in ReadOnlySequence<byte> bytes, ArrayBufferWriter<byte> into)
    {
        into.ResetWrittenCount();
        Append(bytes, into);
        return into.WrittenMemory;
    }

    private static void Append(in ReadOnlySequence<byte> bytes, ArrayBufferWriter<byte> into)
    {
        foreach (var segment in bytes)
        {
            into.Write(segment.Span);
        }
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
}
