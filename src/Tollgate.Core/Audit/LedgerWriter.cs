using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Tollgate.Configuration;

namespace Tollgate.Audit;

/// <summary>
/// Writes audit records off the request path: requests enqueue, one loop writes batches every flush interval.
/// When a batch cannot be written (disk full, database locked) the batch is kept and retried, the writer reports
/// itself unhealthy, and the gateway refuses new requests with 503 <c>ledger_unavailable</c> until a write succeeds:
/// no request runs unrecorded and no record is dropped.
/// </summary>
public sealed partial class LedgerWriter : IAsyncDisposable
{
    private readonly ILedgerStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Func<LedgerOptions> _options;
    private readonly ConcurrentQueue<AuditRecord> _queue = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly List<AuditRecord> _batch = [];
    private readonly Task _loop;
    private int _pending;
    private int _disposed;
    private volatile bool _healthy = true;
    private DateTimeOffset _lastRetention = DateTimeOffset.MinValue;

    /// <summary>Starts the writer loop.</summary>
    public LedgerWriter(ILedgerStore store, Func<LedgerOptions> options, TimeProvider timeProvider, ILogger<LedgerWriter> logger)
    {
        _store = store;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Whether new requests may be admitted: the last write succeeded and the queue is not full.</summary>
    public bool CanAccept => _healthy && Volatile.Read(ref _pending) < _options().MaxPendingRecords;

    /// <summary>
    /// Reports a failed write made outside the writer (a reservation lease): the ledger is unavailable from now
    /// on, and probe writes every <see cref="LedgerOptions.ReadinessProbeInterval"/> tell when it is back.
    /// </summary>
    public void ReportWriteFailure(Exception exception)
    {
        if (_healthy)
        {
            LogWriteFailed(_logger, 0, exception);
        }

        _healthy = false;
        try
        {
            _wake.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Records waiting to be written.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Total records written since start.</summary>
    public long Written { get; private set; }

    /// <summary>Queues a record. Never blocks and never drops: a full queue only makes <see cref="CanAccept"/> false.</summary>
    public void Enqueue(AuditRecord record)
    {
        _queue.Enqueue(record);
        // A full batch wakes the writer; one wake-up pending is enough (a backlog left by a failed write, or a lower
        // batch size after a reload, still wakes it).
        if (Interlocked.Increment(ref _pending) >= _options().MaxBatchSize && _wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Writes everything queued so far; throws when the store fails.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (Volatile.Read(ref _pending) > 0)
        {
            if (!await WriteBatchAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new IOException("The ledger could not be written.");
            }
        }
    }

    /// <summary>Stops the loop after writing everything queued (retrying for a bounded time).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _wake.Release();
        await _loop.ConfigureAwait(false);
        for (int attempt = 0; attempt < 20 && Volatile.Read(ref _pending) > 0; attempt++)
        {
            if (!await WriteBatchAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _timeProvider).ConfigureAwait(false);
            }
        }

        int lost = Volatile.Read(ref _pending);
        if (lost > 0)
        {
            LogRecordsLost(_logger, lost);
        }

        _stop.Dispose();
        _wake.Dispose();
        _writeLock.Dispose();
    }

    private async Task RunAsync()
    {
        Task? wake = null;
        while (!_stop.IsCancellationRequested)
        {
            // The interval runs on the injected TimeProvider (SemaphoreSlim.WaitAsync(TimeSpan) would use the real clock).
            // While the ledger is unavailable the loop wakes at the probe interval instead. One wait on the semaphore
            // stays pending across quiet intervals, so an idle gateway neither throws nor loses a wake-up.
            var options = _options();
            wake ??= _wake.WaitAsync(_stop.Token);
            using (var interval = new CancellationTokenSource())
            {
                var elapsed = Task.Delay(_healthy ? options.FlushInterval : options.ReadinessProbeInterval, _timeProvider, interval.Token);
                if (await Task.WhenAny(wake, elapsed).ConfigureAwait(false) == wake)
                {
                    // Woken early: drop the interval's timer (a canceled delay completes without throwing here).
                    await interval.CancelAsync().ConfigureAwait(false);
                }
            }

            if (wake.IsCompleted)
            {
                if (_stop.IsCancellationRequested)
                {
                    break;
                }

                wake = null;
            }

            while (Volatile.Read(ref _pending) > 0 && await WriteBatchAsync(CancellationToken.None).ConfigureAwait(false))
            {
            }

            if (!_healthy && Volatile.Read(ref _pending) == 0)
            {
                await ProbeAsync().ConfigureAwait(false);
            }

            await ApplyRetentionAsync().ConfigureAwait(false);
        }
    }

    private async Task<bool> WriteBatchAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int max = _options().MaxBatchSize;
            while (_batch.Count < max && _queue.TryDequeue(out var record))
            {
                _batch.Add(record);
            }

            if (_batch.Count == 0)
            {
                return true;
            }

            try
            {
                await _store.AppendAsync(_batch, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (_healthy)
                {
                    LogWriteFailed(_logger, _batch.Count, e);
                }

                _healthy = false;
                return false;
            }

            if (!_healthy)
            {
                LogRecovered(_logger);
            }

            _healthy = true;
            Written += _batch.Count;
            Interlocked.Add(ref _pending, -_batch.Count);
            _batch.Clear();
            return true;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ProbeAsync()
    {
        try
        {
            await _store.ProbeWriteAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return;
        }

        LogRecovered(_logger);
        _healthy = true;
    }

    private async Task ApplyRetentionAsync()
    {
        int days = _options().RetentionDays;
        var now = _timeProvider.GetUtcNow();
        if (days <= 0 || now - _lastRetention < TimeSpan.FromHours(1))
        {
            return;
        }

        _lastRetention = now;
        try
        {
            await _store.DeleteBeforeAsync(now.AddDays(-days), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogRetentionFailed(_logger, e);
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Audit ledger write of {Count} records failed; refusing new requests until it recovers")]
    private static partial void LogWriteFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Audit ledger writes recovered")]
    private static partial void LogRecovered(ILogger logger);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Critical, Message = "Shutting down with {Count} audit records unwritten")]
    private static partial void LogRecordsLost(ILogger logger, int count);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Audit ledger retention cleanup failed")]
    private static partial void LogRetentionFailed(ILogger logger, Exception exception);
}
