using Tollgate.Proxy;

namespace Tollgate.Tests.Proxy;

public sealed class UpstreamBodyTests
{
    public static TheoryData<int, long?, long, bool> Cases() => new()
    {
        // body length, announced length, limit, complete
        { 0, null, 100, true },
        { 1, 1, 100, true },
        { 700, 700, 10_000, true },        // as announced: read into an array of exactly its length
        { 9_000, 9_000, 10_000, true },
        { 9_000, null, 10_000, true },     // unknown length: grown as it comes
        { 700, 500, 10_000, true },        // longer than announced: read on
        { 500, 700, 10_000, true },        // shorter than announced, ended cleanly
        { 700, 700, 699, false },          // announced past the limit
        { 700, 500, 600, false },          // announced within the limit, the rest past it
        { 701, 700, 700, false },          // announced at the limit, one byte more
        { 9_000, null, 5_000, false },     // unknown length past the limit
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ReadAllAsync_ReadsTheBodyWhole_OrSaysItWasCut(int size, long? announced, long limit, bool complete)
    {
        byte[] data = Enumerable.Range(0, size).Select(i => (byte)(i * 7)).ToArray();
        foreach (int chunk in (int[])[1, 7, 4096, int.MaxValue])
        {
            using var body = new UpstreamBody(new ChunkedStream(data, chunk), TimeSpan.FromMinutes(1), CancellationToken.None);

            var (read, whole) = await body.ReadAllAsync(limit, announced);

            Assert.Equal(complete, whole);
            if (complete)
            {
                Assert.Equal(data, read);
            }
            else
            {
                // What arrived before the cut, past the limit by what the last read brought.
                Assert.True(read.Length > limit);
                Assert.Equal(data.AsSpan(0, read.Length).ToArray(), read);
            }
        }
    }

    /// <summary>A body that arrives at most <c>chunk</c> bytes per read.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int count = Math.Min(Math.Min(chunk, buffer.Length), data.Length - _position);
            data.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return ValueTask.FromResult(count);
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
