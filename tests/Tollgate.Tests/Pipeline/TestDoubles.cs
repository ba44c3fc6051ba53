using Tollgate.Audit;
using Tollgate.Limits;

namespace Tollgate.Tests.Pipeline;

/// <summary>A ledger store in memory that can be made unavailable: then every write (lease, batch, probe) fails as a full disk would.</summary>
internal sealed class OutageLedgerStore : ILedgerStore
{
    private readonly InMemoryLedgerStore _inner = new();

    public bool Down { get; set; }

    public int LeaseAttempts { get; private set; }

    public Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken) =>
        Down ? Fail() : _inner.AppendAsync(records, cancellationToken);

    public Task AddLeaseAsync(ReservationLease lease, CancellationToken cancellationToken)
    {
        LeaseAttempts++;
        return Down ? Fail() : _inner.AddLeaseAsync(lease, cancellationToken);
    }

    public Task ProbeWriteAsync(CancellationToken cancellationToken) => Down ? Fail() : _inner.ProbeWriteAsync(cancellationToken);

    public Task MarkBackgroundAsync(string leaseId, string responseId, CancellationToken cancellationToken) =>
        Down ? Fail() : _inner.MarkBackgroundAsync(leaseId, responseId, cancellationToken);

    public Task<IReadOnlyList<ReservationLease>> ReadLeasesAsync(CancellationToken cancellationToken) => _inner.ReadLeasesAsync(cancellationToken);

    public IAsyncEnumerable<AuditRecord> ReadAllowedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        _inner.ReadAllowedSinceAsync(since, cancellationToken);

    public Task<IReadOnlyList<UsageSummary>> QueryUsageAsync(UsageQuery query, CancellationToken cancellationToken) => _inner.QueryUsageAsync(query, cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> ReadAsync(UsageQuery query, int limit, CancellationToken cancellationToken) => _inner.ReadAsync(query, limit, cancellationToken);

    public Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken) => _inner.DeleteBeforeAsync(before, cancellationToken);

    private static Task Fail() => Task.FromException(new IOException("No space left on device."));
}

/// <summary>The in-memory quota store, counting the settles and releases it is asked for (it ignores repeats itself).</summary>
internal sealed class CountingQuotaStore : IQuotaStore
{
    private readonly InMemoryQuotaStore _inner = new();

    public int Settles { get; private set; }

    public int Releases { get; private set; }

    public int Outstanding => _inner.Outstanding;

    public ValueTask<AdmissionDecision> TryReserveAsync(IReadOnlyList<LimitCheck> checks, long requestedOutput, long minOutput, DateTimeOffset now,
        CancellationToken cancellationToken) => _inner.TryReserveAsync(checks, requestedOutput, minOutput, now, cancellationToken);

    public ValueTask SettleAsync(Reservation reservation, ActualUsage actual, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Settles++;
        return _inner.SettleAsync(reservation, actual, now, cancellationToken);
    }

    public ValueTask ReleaseAsync(Reservation reservation, CancellationToken cancellationToken)
    {
        Releases++;
        return _inner.ReleaseAsync(reservation, cancellationToken);
    }

    public ValueTask ReplayAsync(IReadOnlyList<LimitCheck> checks, ActualUsage actual, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken) =>
        _inner.ReplayAsync(checks, actual, at, now, cancellationToken);

    public ValueTask<Reservation> HoldAsync(IReadOnlyList<LimitCheck> checks, long outputCap, DateTimeOffset at, DateTimeOffset now, CancellationToken cancellationToken) =>
        _inner.HoldAsync(checks, outputCap, at, now, cancellationToken);

    public ValueTask<long> RestoreAsync(IAsyncEnumerable<PastUsage> history, DateTimeOffset now, CancellationToken cancellationToken) =>
        _inner.RestoreAsync(history, now, cancellationToken);

    public ValueTask<IReadOnlyList<LimitStatus>> PeekAsync(IReadOnlyList<LimitCheck> checks, DateTimeOffset now, CancellationToken cancellationToken) =>
        _inner.PeekAsync(checks, now, cancellationToken);

    public ValueTask<long> UsedAsync(LimitCheck check, DateTimeOffset now, CancellationToken cancellationToken) => _inner.UsedAsync(check, now, cancellationToken);
}

/// <summary>The parts every read-only test body shares: it is read with <c>ReadAsync</c>, and nothing else is supported.</summary>
internal abstract class ReadOnlyTestStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A body that delivers <paramref name="prefix"/> and then fails, as a connection reset mid-body does.</summary>
internal sealed class CutStream(byte[] prefix) : ReadOnlyTestStream
{
    private int _position;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= prefix.Length)
        {
            return ValueTask.FromException<int>(new IOException("The connection was reset."));
        }

        int count = Math.Min(buffer.Length, prefix.Length - _position);
        prefix.AsMemory(_position, count).CopyTo(buffer);
        _position += count;
        return ValueTask.FromResult(count);
    }
}
