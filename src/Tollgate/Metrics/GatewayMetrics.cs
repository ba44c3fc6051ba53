using Prometheus;
using Tollgate.Audit;

namespace Tollgate.Metrics;

/// <summary>
/// Tollgate's Prometheus metrics, in a registry of their own (one per gateway instance). Labels are bounded:
/// decision, reason code, configured model name, endpoint, token kind — never a key, user or tenant.
/// </summary>
internal sealed class GatewayMetrics
{
    private static readonly double[] s_latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly Counter _requests;
    private readonly Counter _tokens;
    private readonly Counter _cost;
    private readonly Gauge _inFlight;
    private readonly Histogram _gatewayTime;
    private readonly Histogram _upstreamTime;
    private readonly Counter _estimated;
    private readonly Counter _overshoot;
    private readonly Counter _shadow;
    private readonly Counter _warnings;

    public GatewayMetrics(Func<LedgerWriter> ledger)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _requests = factory.CreateCounter("tollgate_requests_total", "Requests by decision, reason code, model and endpoint.",
            ["decision", "reason", "model", "endpoint"]);
        _tokens = factory.CreateCounter("tollgate_tokens_total", "Tokens billed, by kind (input, cached_input, output, reasoning) and model.",
            ["kind", "model"]);
        _cost = factory.CreateCounter("tollgate_cost_dollars_total", "Spend in US dollars, by model (exact figures are in the ledger).", ["model"]);
        _estimated = factory.CreateCounter("tollgate_usage_estimated_total", "Requests billed from Tollgate's own token count because the upstream reported no usage.", ["model"]);
        _overshoot = factory.CreateCounter("tollgate_output_overshoot_total", "Responses with more output than reserved (the upstream ignored the cap).", ["model"]);
        _shadow = factory.CreateCounter("tollgate_shadow_refusals_total", "Requests a shadow-mode limit would have refused (not enforced).", ["endpoint"]);
        _warnings = factory.CreateCounter("tollgate_budget_warnings_total", "Budget warnings raised (first crossing of the threshold in a window).");
        _inFlight = factory.CreateGauge("tollgate_requests_in_flight", "Requests being handled now.");
        _gatewayTime = factory.CreateHistogram("tollgate_gateway_duration_seconds", "Time spent in the gateway itself (total minus upstream).",
            new HistogramConfiguration { Buckets = s_latencyBuckets, LabelNames = ["endpoint"] });
        _upstreamTime = factory.CreateHistogram("tollgate_upstream_duration_seconds", "Time spent waiting on the upstream, to the end of its response.",
            new HistogramConfiguration { Buckets = s_latencyBuckets, LabelNames = ["model"] });
        var pending = factory.CreateGauge("tollgate_ledger_pending_records", "Audit records waiting to be written.");
        Registry.AddBeforeCollectCallback(() => pending.Set(ledger().Pending));
    }

    public CollectorRegistry Registry { get; }

    public void RequestStarted() => _inFlight.Inc();

    public void RequestEnded(AuditRecord record)
    {
        _inFlight.Dec();
        string model = record.Model is not null && record.Upstream is not null ? record.Model : "none";
        _requests.WithLabels(record.Decision, record.Reason, model, record.Endpoint).Inc();
        if (record.Usage.TotalTokens > 0)
        {
            _tokens.WithLabels("input", model).Inc(record.Usage.InputTokens);
            _tokens.WithLabels("cached_input", model).Inc(record.Usage.CachedInputTokens);
            _tokens.WithLabels("output", model).Inc(record.Usage.OutputTokens);
            _tokens.WithLabels("reasoning", model).Inc(record.Usage.ReasoningTokens);
        }

        if (record.CostNanos > 0)
        {
            _cost.WithLabels(model).Inc(record.CostNanos / (double)Pricing.Money.NanosPerDollar);
        }

        if (record.Overshoot)
        {
            _overshoot.WithLabels(model).Inc();
        }

        if (record.ShadowRefusals is not null)
        {
            _shadow.WithLabels(record.Endpoint).Inc();
        }

        if (record.Warning is not null)
        {
            _warnings.Inc();
        }

        if (record.UsageSource == Pricing.UsageSource.Estimated)
        {
            _estimated.WithLabels(model).Inc();
        }

        _gatewayTime.WithLabels(record.Endpoint).Observe(Math.Max(0, record.LatencyMs - record.UpstreamLatencyMs) / 1000);
        if (record.UpstreamStatus is not null)
        {
            _upstreamTime.WithLabels(model).Observe(record.UpstreamLatencyMs / 1000);
        }
    }
}
