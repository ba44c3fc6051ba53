using System.Text;
using Tollgate.Audit;
using Tollgate.Metrics;
using Tollgate.Pricing;

namespace Tollgate.Tests.Metrics;

public sealed class GatewayMetricsTests
{
    private readonly GatewayMetrics _metrics = new(() => throw new InvalidOperationException("no ledger in these tests"));

    [Fact]
    public async Task RequestEnded_ManyRecordsOverTwoModels_EachSeriesHoldsItsOwnSum()
    {
        for (int i = 0; i < 3; i++)
        {
            _metrics.RequestEnded(Record("chat-mini", new TokenUsage(10, 4, 5, 2), costNanos: 1_500_000_000, upstreamMs: 250));
        }

        _metrics.RequestEnded(Record("chat-large", new TokenUsage(7, 0, 1, 0), costNanos: 250_000_000, upstreamMs: 50));
        _metrics.RequestEnded(Record("chat-large", default, costNanos: 0, upstreamMs: null) with
        {
            Decision = Decisions.Refused,
            Reason = "rate_limited",
            Upstream = null,
        });

        string text = await ExportAsync();
        Assert.Contains("tollgate_requests_total{decision=\"allowed\",reason=\"ok\",model=\"chat-mini\",endpoint=\"chat.completions\"} 3", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_requests_total{decision=\"allowed\",reason=\"ok\",model=\"chat-large\",endpoint=\"chat.completions\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_requests_total{decision=\"refused\",reason=\"rate_limited\",model=\"none\",endpoint=\"chat.completions\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_tokens_total{kind=\"input\",model=\"chat-mini\"} 30", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_tokens_total{kind=\"cached_input\",model=\"chat-mini\"} 12", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_tokens_total{kind=\"output\",model=\"chat-mini\"} 15", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_tokens_total{kind=\"reasoning\",model=\"chat-mini\"} 6", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_tokens_total{kind=\"input\",model=\"chat-large\"} 7", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_cost_dollars_total{model=\"chat-mini\"} 4.5", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_cost_dollars_total{model=\"chat-large\"} 0.25", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_upstream_duration_seconds_count{model=\"chat-mini\"} 3", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_upstream_duration_seconds_sum{model=\"chat-mini\"} 0.75", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_upstream_duration_seconds_count{model=\"chat-large\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("tollgate_gateway_duration_seconds_count{endpoint=\"chat.completions\"} 5", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestEnded_NoTokensCostOrUpstream_MakesNoSeriesForThem()
    {
        _metrics.RequestEnded(Record("chat-mini", default, costNanos: 0, upstreamMs: null));

        string text = await ExportAsync();
        Assert.Contains("tollgate_requests_total{decision=\"allowed\",reason=\"ok\",model=\"chat-mini\",endpoint=\"chat.completions\"} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tollgate_tokens_total{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tollgate_cost_dollars_total{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tollgate_upstream_duration_seconds_count{", text, StringComparison.Ordinal);
    }

    private static AuditRecord Record(string model, TokenUsage usage, long costNanos, double? upstreamMs) => new()
    {
        Timestamp = DateTimeOffset.UnixEpoch,
        RequestId = "req_1",
        Endpoint = "chat.completions",
        Decision = Decisions.Allowed,
        Reason = AuditReasons.Ok,
        Model = model,
        Upstream = "sim",
        Usage = usage,
        CostNanos = costNanos,
        LatencyMs = (upstreamMs ?? 0) + 1,
        UpstreamLatencyMs = upstreamMs ?? 0,
        UpstreamStatus = upstreamMs is null ? null : 200,
    };

    private async Task<string> ExportAsync()
    {
        using var output = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(output);
        return Encoding.UTF8.GetString(output.ToArray());
    }
}
