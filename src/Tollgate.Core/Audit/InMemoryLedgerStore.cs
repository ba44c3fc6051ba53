using Tollgate.Pricing;
namespace Tollgate.Audit;

/// <summary>An <see cref="ILedgerStore"/> in memory, for tests.</summary>
public sealed class InMemoryLedgerStore : ILedgerStore
{
    private readonly Lock _lock = new();
    private readonly List<AuditRecord> _records = [];
    private readonly Dictionary<string, ReservationLease> _leases = new(StringComparer.Ordinal);

    /// <summary>When set, every write (append or lease) throws it (a failing disk).</summary>
    public Exception? FailWith { get; set; }

    /// <inheritdoc />
    public Task ProbeWriteAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return FailWith is { } e ? Task.FromException(e) : Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (FailWith is { } e)
            {
                throw e;
            }

            _records.AddRange(records);
            foreach (var record in records)
            {
                foreach (string id in record.SettledReservationIds())
                {
                    _leases.Remove(id);
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A lease with the same id is already stored.</exception>
    public Task AddLeaseAsync(ReservationLease lease, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (FailWith is { } e)
            {
                throw e;
            }

            if (!_leases.TryAdd(lease.Id, lease))
            {
                throw new InvalidOperationException($"Lease {lease.Id} already exists.");
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task MarkBackgroundAsync(string leaseId, string responseId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (FailWith is { } e)
            {
                throw e;
            }

            if (_leases.TryGetValue(leaseId, out var lease))
            {
                _leases[leaseId] = lease with { BackgroundResponseId = responseId };
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ReservationLease>> ReadLeasesAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<ReservationLease> leases = [.. _leases.Values.OrderBy(l => l.Timestamp).ThenBy(l => l.Id, StringComparer.Ordinal)];
            return Task.FromResult(leases);
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<AuditRecord> ReadAllowedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            // OrderBy is stable: records with the same instant stay in append order.
            List<AuditRecord> rows = [.. _records.Where(r => r.Decision == Decisions.Allowed && r.Timestamp >= since).OrderBy(r => r.Timestamp)];
            return rows.ToAsyncEnumerable();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<UsageSummary>> QueryUsageAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<UsageSummary> rows = [.. Filter(query)
                .GroupBy(r => (r.Tenant, r.User, r.Model))
                .OrderBy(g => g.Key.Tenant, StringComparer.Ordinal).ThenBy(g => g.Key.User, StringComparer.Ordinal).ThenBy(g => g.Key.Model, StringComparer.Ordinal)
                .Select(g => new UsageSummary(g.Key.Tenant, g.Key.User, g.Key.Model,
                    g.LongCount(), g.LongCount(r => r.Decision == Decisions.Refused),
                    Saturating.Sum(g, r => r.Usage.InputTokens), Saturating.Sum(g, r => r.Usage.CachedInputTokens), Saturating.Sum(g, r => r.Usage.OutputTokens),
                    Saturating.Sum(g, r => r.Usage.ReasoningTokens), Saturating.Sum(g, r => r.CostNanos), g.LongCount(r => r.UsageSource == Pricing.UsageSource.Estimated)))];
            return Task.FromResult(rows);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditRecord>> ReadAsync(UsageQuery query, int limit, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<AuditRecord> rows = [.. Filter(query).TakeLast(limit)];
            return Task.FromResult(rows);
        }
    }

    /// <inheritdoc />
    public Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_records.RemoveAll(r => r.Timestamp < before));
        }
    }

    private IEnumerable<AuditRecord> Filter(UsageQuery q) => _records.Where(r =>
        (q.Tenant is null || r.Tenant == q.Tenant) && (q.User is null || r.User == q.User)
        && (q.Since is null || r.Timestamp >= q.Since) && (q.RequestId is null || r.RequestId == q.RequestId));
}
