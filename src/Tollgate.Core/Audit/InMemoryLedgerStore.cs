namespace Tollgate.Audit;

/// <summary>An <see cref="ILedgerStore"/> in memory, for tests.</summary>
public sealed class InMemoryLedgerStore : ILedgerStore
{
    private readonly Lock _lock = new();
    private readonly List<AuditRecord> _records = [];

    /// <summary>When set, every append throws it (a failing disk).</summary>
    public Exception? FailWith { get; set; }

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
        }

        return Task.CompletedTask;
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
                    g.Sum(r => r.Usage.InputTokens), g.Sum(r => r.Usage.CachedInputTokens), g.Sum(r => r.Usage.OutputTokens),
                    g.Sum(r => r.Usage.ReasoningTokens), g.Sum(r => r.CostNanos), g.LongCount(r => r.UsageSource == Pricing.UsageSource.Estimated)))];
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
