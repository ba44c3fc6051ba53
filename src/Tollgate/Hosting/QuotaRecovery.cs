using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Pricing;

namespace Tollgate.Hosting;

/// <summary>
/// At start-up the ledger is the source of truth. Leases left by requests that were in flight when the gateway died
/// are billed at their reserved worst case (a crash never frees budget that may have been spent); then every allowed
/// record of the last month is replayed into the counters, so a restart resets no window and forgets no spend.
/// </summary>
internal static partial class QuotaRecovery
{
    private static readonly TimeSpan s_lookBack = TimeSpan.FromDays(32);

    public static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var ledger = services.GetRequiredService<ILedgerStore>();
        var keys = services.GetRequiredService<IApiKeyStore>();
        var quotas = services.GetRequiredService<IQuotaStore>();
        var config = services.GetRequiredService<GatewayConfigMonitor>().Current;
        var logger = services.GetRequiredService<ILogger<GatewayApp>>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();

        var leases = await ledger.ReadLeasesAsync(cancellationToken).ConfigureAwait(false);
        if (leases.Count > 0)
        {
            await ledger.AppendAsync([.. leases.Select(ToRecord)], cancellationToken).ConfigureAwait(false);
            LogOrphans(logger, leases.Count);
        }

        var plans = new Dictionary<string, PlanOptions>(StringComparer.Ordinal);
        long replayed = 0;
        await foreach (var record in ledger.ReadAllowedSinceAsync(now - s_lookBack, cancellationToken).ConfigureAwait(false))
        {
            if (record.KeyId is null || record.Tenant is null || record.User is null)
            {
                continue;
            }

            if (!plans.TryGetValue(record.KeyId, out var plan))
            {
                var key = await keys.GetAsync(record.KeyId, cancellationToken).ConfigureAwait(false);
                plan = (key is null ? null : EffectivePlans.Get(config, key.Plan, key.Overrides)) ?? new PlanOptions();
                plans[record.KeyId] = plan;
            }

            var checks = AdmissionPolicy.BuildChecks(config, plan, record.KeyId, record.Tenant, record.User, record.Task, record.SourceAddress,
                new RequestDemand(0, 0, default));
            quotas.Replay(checks, new ActualUsage(record.Usage.InputTokens, record.Usage.OutputTokens, record.CostNanos), record.Timestamp, now);
            replayed++;
        }

        LogReplayed(logger, replayed);
    }

    private static AuditRecord ToRecord(ReservationLease lease) => new()
    {
        Timestamp = lease.Timestamp,
        RequestId = lease.RequestId,
        Endpoint = lease.Endpoint,
        KeyId = lease.KeyId,
        Tenant = lease.Tenant,
        User = lease.User,
        Model = lease.Model,
        Upstream = lease.Upstream,
        Decision = Decisions.Allowed,
        Reason = AuditReasons.OrphanedReservation,
        Usage = lease.Usage,
        CostNanos = lease.CostNanos,
        UsageSource = UsageSource.Reserved,
        Status = 0,
        Task = lease.Task,
        SourceAddress = lease.SourceAddress,
        ReservationId = lease.Id,
    };

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "{Count} requests were in flight when the gateway last stopped abruptly; billed at their reserved worst case")]
    private static partial void LogOrphans(ILogger logger, int count);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Limit counters rebuilt from {Count} ledger records")]
    private static partial void LogReplayed(ILogger logger, long count);
}
