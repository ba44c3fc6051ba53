using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Stores.Contracts;

namespace Tollgate.Core.Tests.Audit;

public sealed class LedgerWriterTests
{
    private static TimeSpan Interval => TimeSpan.FromHours(1);
    private static UsageQuery All => new();
    private readonly FakeTimeProvider _time = new(TestAuditRecords.T0);
    private readonly InMemoryLedgerStore _store = new();
    private readonly LedgerOptions _options = new() { FlushInterval = Interval, MaxBatchSize = 1000, MaxPendingRecords = 10_000, RetentionDays = 0 };

    [Fact]
    public async Task Enqueue_BelowBatchSize_IsWrittenWhenTheFlushIntervalPasses()
    {
        await using var writer = CreateWriter();

        Enqueue(writer, 3);
        Assert.Empty(await ReadAllAsync());
        Assert.Equal(3, writer.Pending);

        // Only fake time moves: an hour-long interval elapses at once, or never.
        await AdvanceUntilAsync(async () => (await ReadAllAsync()).Count == 3);

        Assert.Equal(["r0", "r1", "r2"], (await ReadAllAsync()).Select(r => r.RequestId));
        Assert.Equal(0, writer.Pending);
        Assert.Equal(3, writer.Written);
    }

    [Fact]
    public async Task Enqueue_ReachingBatchSize_WritesWithoutWaitingForTheInterval()
    {
        _options.MaxBatchSize = 4;
        await using var writer = CreateWriter();

        Enqueue(writer, 4);

        await UntilAsync(async () => (await ReadAllAsync()).Count == 4, advance: false);
    }

    [Fact]
    public async Task FlushAsync_StoreFailing_ThrowsKeepsRecordsAndRefusesNewRequests()
    {
        await using var writer = CreateWriter();
        Assert.True(writer.CanAccept);
        _store.FailWith = new IOException("disk full");
        Enqueue(writer, 5);

        await Assert.ThrowsAsync<IOException>(() => writer.FlushAsync());

        Assert.False(writer.CanAccept);
        Assert.Equal(5, writer.Pending);
        Assert.Equal(0, writer.Written);
        Assert.Empty(await ReadAllAsync());
        _store.FailWith = null;
    }

    [Fact]
    public async Task FlushAsync_StoreRecovered_WritesEveryKeptRecordInOrder()
    {
        await using var writer = CreateWriter();
        _store.FailWith = new IOException("disk full");
        Enqueue(writer, 5);
        await Assert.ThrowsAsync<IOException>(() => writer.FlushAsync());
        Enqueue(writer, 2, first: 5);

        _store.FailWith = null;
        await writer.FlushAsync();

        Assert.True(writer.CanAccept);
        Assert.Equal(0, writer.Pending);
        Assert.Equal(7, writer.Written);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"r{i}"), (await ReadAllAsync()).Select(r => r.RequestId));
    }

    [Fact]
    public async Task Loop_StoreRecovered_RetriesOnTheNextIntervalAndAcceptsAgain()
    {
        await using var writer = CreateWriter();
        _store.FailWith = new IOException("database is locked");
        try
        {
            Enqueue(writer, 3);
            await AdvanceUntilAsync(() => Task.FromResult(!writer.CanAccept));
        }
        finally
        {
            // DisposeAsync retries a failing store on fake time, which only this test moves.
            _store.FailWith = null;
        }

        await AdvanceUntilAsync(() => Task.FromResult(writer.CanAccept && writer.Pending == 0));

        Assert.Equal(["r0", "r1", "r2"], (await ReadAllAsync()).Select(r => r.RequestId));
    }

    [Fact]
    public async Task DisposeAsync_RecordsQueued_WritesThemAll()
    {
        var writer = CreateWriter();
        Enqueue(writer, 3);

        await writer.DisposeAsync();

        Assert.Equal(3, (await ReadAllAsync()).Count);
    }

    private LedgerWriter CreateWriter() => new(_store, () => _options, _time, NullLogger<LedgerWriter>.Instance);

    private static void Enqueue(LedgerWriter writer, int count, int first = 0)
    {
        for (int i = first; i < first + count; i++)
        {
            writer.Enqueue(TestAuditRecords.Minimal($"r{i}"));
        }
    }

    private Task<IReadOnlyList<AuditRecord>> ReadAllAsync() => _store.ReadAsync(All, int.MaxValue, CancellationToken.None);

    private Task AdvanceUntilAsync(Func<Task<bool>> condition) => UntilAsync(condition, advance: true);

    // The writer's loop runs on the thread pool: yield to it until the condition holds, moving fake time by one
    // flush interval per turn when asked. The real-time bound only turns a hang into a failure.
    private async Task UntilAsync(Func<Task<bool>> condition, bool advance)
    {
        var elapsed = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(10), "The condition did not hold within 10 s.");
            if (advance)
            {
                _time.Advance(Interval);
            }

            await Task.Yield();
        }
    }
}
