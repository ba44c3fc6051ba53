using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<RequestLabels, Counter.Child> _requestSeries = new();
    private readonly ConcurrentDictionary<string, ModelSeries> _modelSeries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Histogram.Child> _gatewayTimes = new(StringComparer.Ordinal);

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
        var requests = new RequestLabels(record.Decision, record.Reason, model, record.Endpoint);
        if (!_requestSeries.TryGetValue(requests, out var requestCounter))
        {
            requestCounter = _requestSeries.GetOrAdd(requests, l => _requests.WithLabels(l.Decision, l.Reason, l.Model, l.Endpoint));
        }

        requestCounter.Inc();
        var series = SeriesOf(model);
        if (record.Usage.TotalTokens > 0)
        {
            series.Tokens(this).Input.Inc(record.Usage.InputTokens);
            series.Tokens(this).CachedInput.Inc(record.Usage.CachedInputTokens);
            series.Tokens(this).Output.Inc(record.Usage.OutputTokens);
            series.Tokens(this).Reasoning.Inc(record.Usage.ReasoningTokens);
        }

        if (record.CostNanos > 0)
        {
            series.Cost(this).Inc(record.CostNanos / (double)Pricing.Money.NanosPerDollar);
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

        if (!_gatewayTimes.TryGetValue(record.Endpoint, out var gatewayTime))
        {
            gatewayTime = _gatewayTimes.GetOrAdd(record.Endpoint, e => _gatewayTime.WithLabels(e));
        }

        gatewayTime.Observe(Math.Max(0, record.LatencyMs - record.UpstreamLatencyMs) / 1000);
        if (record.UpstreamStatus is not null)
        {
            series.UpstreamTime(this).Observe(record.UpstreamLatencyMs / 1000);
        }
    }

    // The series of the labels every request has, found once per label set instead of through WithLabels (which
    // allocates the label array and looks the set up again on each call). Labels are bounded (see the class), and a
    // series is made on its first use, as WithLabels does, so the exposition is the same.
    private ModelSeries SeriesOf(string model)
    {
        if (!_modelSeries.TryGetValue(model, out var series))
        {
            series = _modelSeries.GetOrAdd(model, m => new ModelSeries(m));
        }

        return series;
    }

    private readonly record struct RequestLabels(string Decision, string Reason, string Model, string Endpoint);

    private sealed class TokenSeries(Counter tokens, string model)
    {
        public Counter.Child Input { get; } = tokens.WithLabels("input", model);

        public Counter.Child CachedInput { get; } = tokens.WithLabels("cached_input", model);

        public Counter.Child Output { get; } = tokens.WithLabels("output", model);

        public Counter.Child Reasoning { get; } = tokens.WithLabels("reasoning", model);
    }

    private sealed class ModelSeries(string model)
    {
        private TokenSeries? _tokens;
        private Counter.Child? _cost;
        private Histogram.Child? _upstreamTime;

        public TokenSeries Tokens(GatewayMetrics metrics) => _tokens ??= new TokenSeries(metrics._tokens, model);

        public Counter.Child Cost(GatewayMetrics metrics) => _cost ??= metrics._cost.WithLabels(model);

        public Histogram.Child UpstreamTime(GatewayMetrics metrics) => _upstreamTime ??= metrics._upstreamTime.WithLabels(model);
    }
}
