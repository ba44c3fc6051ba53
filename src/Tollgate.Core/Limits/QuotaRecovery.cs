using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Identity;
using Tollgate.Pricing;

namespace Tollgate.Limits;

/// <summary>
/// At start-up the ledger is the source of truth. Leases left by requests that were in flight when the gateway died
/// are billed at their reserved worst case (a crash never frees budget that may have been spent); then the quota
/// store restores its counters from every allowed record of the last <see cref="LookBack"/>: a store in process memory
/// replays them, so a restart resets no window and forgets no spend; one whose counters are durable has nothing to do.
/// A lease that holds a background response's reservation (<see cref="ReservationLease.BackgroundResponseId"/>) is not
/// billed: its reservation is held again (<see cref="IQuotaStore.HoldAsync"/>) and handed back, for the host to
/// resume settling it from the upstream.
/// </summary>
public sealed partial class QuotaRecovery(ILedgerStore ledger, IApiKeyStore keys, IQuotaStore quotas, TimeProvider timeProvider, ILogger<QuotaRecovery> logger)
{
    /// <summary>How far back the ledger is replayed: the longest window, a calendar month, and a day to spare.</summary>
    public static TimeSpan LookBack { get; } = TimeSpan.FromDays(32);

    /// <summary>Bills the leftover leases, then restores the quota store's counters from the ledger.</summary>
    /// <param name="config">The configuration whose plans and limits the replayed records count against.</param>
    /// <param name="cancellationToken">Cancels start-up.</param>
    public async Task<QuotaRecoveryResult> RunAsync(GatewayConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var now = timeProvider.GetUtcNow();
        var all = await ledger.ReadLeasesAsync(cancellationToken).ConfigureAwait(false);
        var leases = all.Where(static l => l.BackgroundResponseId is null).ToList();
        if (leases.Count > 0)
        {
            await ledger.AppendAsync([.. leases.Select(ToRecord)], cancellationToken).ConfigureAwait(false);
            LogOrphans(logger, leases.Count);
        }

        long replayed = await quotas.RestoreAsync(ReadHistoryAsync(config, now, cancellationToken), now, cancellationToken).ConfigureAwait(false);
        LogReplayed(logger, replayed);
        var resumed = new List<ResumedReservation>();
        foreach (var lease in all)
        {
            if (lease.BackgroundResponseId is not null)
            {
                resumed.Add(new ResumedReservation(lease, await HoldAgainAsync(config, lease, now, cancellationToken).ConfigureAwait(false)));
            }
        }

        return new QuotaRecoveryResult(leases.Count, replayed) { Resumed = resumed.Count > 0 ? resumed : Array.Empty<ResumedReservation>() };
    }

    // The checks the request was admitted under, rebuilt as the ledger replay builds them (the key's plan as
    // configured now), with the amounts of its lease: its input and its reserved output, one choice.
    private async Task<Reservation> HoldAgainAsync(GatewayConfig config, ReservationLease lease, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var key = await keys.GetAsync(lease.KeyId, cancellationToken).ConfigureAwait(false);
        var plan = (key is null ? null : EffectivePlans.Get(config, key.Plan, key.Overrides)) ?? new PlanOptions();
        var price = config.TryGetModel(lease.Model, out var model) ? model.Price : default;
        var demand = new RequestDemand(lease.Usage.InputTokens, 1, price);
        var checks = LimitPlanner.BuildChecks(config, plan, lease.KeyId, lease.Tenant, lease.User, lease.Task, lease.SourceAddress, demand);
        LimitPlanner.AddUpstream(checks, config, lease.Upstream, lease.Tenant, demand);
        return await quotas.HoldAsync(checks, lease.Usage.OutputTokens, lease.Timestamp, now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Each allowed record of a key since <paramref name="now"/> − <see cref="LookBack"/>, oldest first, with the
    /// checks of its scopes under the key's plan as configured now (a key no longer in the store counts against its
    /// tenant's, its address's and the gateway's limits only), and of its upstream's quota; a record with attempts
    /// counts each call against its own upstream's quota as an entry of its own. Read lazily, as the quota store
    /// enumerates it.
    /// </summary>
    public async IAsyncEnumerable<PastUsage> ReadHistoryAsync(GatewayConfig config, DateTimeOffset now,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var plans = new Dictionary<string, PlanOptions>(StringComparer.Ordinal);
        await foreach (var record in ledger.ReadAllowedSinceAsync(now - LookBack, cancellationToken).ConfigureAwait(false))
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

            var checks = LimitPlanner.BuildChecks(config, plan, record.KeyId, record.Tenant, record.User, record.Task, record.SourceAddress, default);
            if (record.Attempts is null && record.Upstream is not null)
            {
                LimitPlanner.AddUpstream(checks, config, record.Upstream, record.Tenant, default);
            }

            yield return new PastUsage(checks, new ActualUsage(record.Usage.InputTokens, record.Usage.OutputTokens, record.CostNanos), record.Timestamp);
            if (record.Attempts is { } attempts)
            {
                // Each call an attempt made counts against its own upstream's quota, with what it was billed.
                foreach (var attempt in attempts)
                {
                    var upstream = new List<LimitCheck>(4);
                    // A candidate passed over made no call; one the breaker refused after admission was released.
                    if (attempt.ReservationId is not null && attempt.Reason != Protocol.ErrorCodes.UpstreamUnavailable)
                    {
                        LimitPlanner.AddUpstream(upstream, config, attempt.Upstream, record.Tenant, default);
                    }

                    if (upstream.Count > 0)
                    {
                        yield return new PastUsage(upstream, new ActualUsage(attempt.Usage.InputTokens, attempt.Usage.OutputTokens, attempt.CostNanos), record.Timestamp);
                    }
                }
            }
        }
    }

    private static AuditRecord ToRecord(ReservationLease lease) => lease.ToRecord(AuditReasons.OrphanedReservation, status: 0) with
    {
        Usage = lease.Usage,
        CostNanos = lease.CostNanos,
        ToolFeeNanos = lease.ToolFeeNanos,
        UsageSource = UsageSource.Reserved,
    };

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "{Count} requests were in flight when the gateway last stopped abruptly; billed at their reserved worst case")]
    private static partial void LogOrphans(ILogger logger, int count);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Limit counters rebuilt from {Count} ledger records")]
    private static partial void LogReplayed(ILogger logger, long count);
}

/// <summary>What <see cref="QuotaRecovery.RunAsync"/> did.</summary>
/// <param name="BilledLeases">Leases left by an abrupt stop, billed at their reserved worst case.</param>
/// <param name="ReplayedRecords">Ledger records the quota store counted (0 for a store whose counters are durable).</param>
public readonly record struct QuotaRecoveryResult(int BilledLeases, long ReplayedRecords)
{
    /// <summary>The background responses whose reservations were held again, for the host to resume settling.</summary>
    public IReadOnlyList<ResumedReservation> Resumed { get; init; } = Array.Empty<ResumedReservation>();
}

/// <summary>A background response's lease, left by the previous process, and its reservation held again in this one.</summary>
/// <param name="Lease">The lease (its <see cref="ReservationLease.BackgroundResponseId"/> is set).</param>
/// <param name="Reservation">The reservation held again on the lease's scopes.</param>
public sealed record ResumedReservation(ReservationLease Lease, Reservation Reservation);
