using Tollgate.Configuration;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Proxy;

/// <summary>
/// The bill of a forwarded request, in one place: the upstream's usage when it is well formed (held to what the
/// request can physically produce), Tollgate's own count when the upstream reported none or nonsense, and the
/// configured rule when the outcome is unknown.
/// </summary>
internal sealed partial class ModelProxy
{
    /// <summary>Bills usage the upstream reported, clamped to what the request can produce.</summary>
    private void BillReported(Exchange exchange, ModelRequest request, in TokenUsage reported)
    {
        var model = exchange.Model!;
        var billed = BoundsFor(request, model).Clamp(reported, out bool clamped);
        exchange.ReportedUsage = reported;
        exchange.UsageClamped = clamped;
        exchange.BillingRule = null;
        exchange.Bill(billed, UsageSource.Reported);
        if (clamped)
        {
            exchange.Overshoot = true;
            LogUsageClamped(logger, exchange.RequestId, model.Name, reported.InputTokens, reported.OutputTokens, billed.InputTokens, billed.OutputTokens);
        }

        if (exchange.Admission is { } admitted && (billed.InputTokens > admitted.InputTokens
            || (request.Endpoint != ApiEndpoint.Embeddings && billed.OutputTokens > admitted.ReservedOutput)))
        {
            // Below the physical bound an overrun is billed as reported, flagged, and counted as overshoot.
            exchange.Overshoot = true;
        }
    }

    /// <summary>
    /// Bills Tollgate's own count: the input as admitted, the output counted from <paramref name="generated"/>, at
    /// most the reserved output. <paramref name="flagOverrun"/>: whether an estimate above the reservation means the
    /// upstream overran (true when <paramref name="generated"/> is the answer's text, false for a broken body).
    /// </summary>
    private static void BillEstimate(Exchange exchange, ModelRequest request, string generated, bool flagOverrun)
    {
        var model = exchange.Model!;
        var estimate = exchange.Admission is { } admitted
            ? new TokenUsage(admitted.InputTokens, 0, request.Endpoint == ApiEndpoint.Embeddings ? 0 : UsageEstimator.CountOutput(model, generated), 0)
            : UsageEstimator.Estimate(request, model, generated);
        if (exchange.Admission is { } reserved && estimate.OutputTokens > reserved.ReservedOutput)
        {
            estimate = estimate with { OutputTokens = reserved.ReservedOutput };
            exchange.Overshoot |= flagOverrun;
        }

        exchange.Bill(estimate, UsageSource.Estimated);
    }

    /// <summary>Bills an unknown outcome by its upstream's rule, and records the rule.</summary>
    private static void BillUnknown(Exchange exchange, ModelRequest request, UpstreamOptions upstream, UnknownOutcome outcome, string arrived)
    {
        string rule = upstream.UnknownOutcomes.RuleFor(outcome);
        exchange.BillingRule = BillingRules.Name(outcome) + ":" + rule;
        switch (rule)
        {
            case BillingRules.Reservation:
                BillReserved(exchange);
                break;
            case BillingRules.Estimate:
                BillEstimate(exchange, request, arrived, flagOverrun: outcome == UnknownOutcome.StreamCutWithoutUsage);
                break;
            default:
                exchange.Bill(default, UsageSource.None);
                break;
        }
    }

    private static void BillReserved(Exchange exchange)
    {
        if (exchange.Admission is { } admission)
        {
            exchange.Usage = new TokenUsage(admission.InputTokens, 0, admission.ReservedOutput, 0);
            exchange.UsageSource = UsageSource.Reserved;
            exchange.CostNanos = admission.WorstCostNanos;
        }
    }

    /// <summary>The most a request can consume: the context window per input item, the maximum output per choice.</summary>
    private static UsageBounds BoundsFor(ModelRequest request, ModelDefinition model)
    {
        long items = 1;
        if (request.Endpoint == ApiEndpoint.Embeddings && request.Document.RootElement.TryGetProperty("input", out var input)
            && input.ValueKind == System.Text.Json.JsonValueKind.Array && input.GetArrayLength() > 0
            && input[0].ValueKind is System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Array)
        {
            items = input.GetArrayLength();
        }

        return new UsageBounds(Saturating.Multiply(model.ContextWindow, items), Saturating.Multiply(model.MaxOutputTokens, request.OutputMultiplier));
    }

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "Request {RequestId}: the upstream for {Model} reported {ReportedInput} input and {ReportedOutput} output tokens, more than the request can produce; billed {BilledInput} and {BilledOutput}")]
    private static partial void LogUsageClamped(ILogger logger, string requestId, string model, long reportedInput, long reportedOutput, long billedInput, long billedOutput);
}
