using Tollgate.Configuration;

namespace Tollgate.Core.Tests.Configuration;

/// <summary>The resilience settings are validated with everything else: every error is reported with its path and value.</summary>
public sealed class ResilienceValidatorTests
{
    [Fact]
    public void Validate_GoodResilienceSettings_ReportsNothing_AndCompilesTheFallbacks()
    {
        var options = TestOptions.Valid();
        options.Upstreams["backup"] = new() { Kind = UpstreamKinds.Simulator };
        var openai = options.Upstreams["openai"];
        openai.TotalTimeout = TimeSpan.FromMinutes(5);
        openai.MaxRetryWait = TimeSpan.FromSeconds(30);
        openai.Limits = new() { RequestsPerMinute = 500, TokensPerMinute = 100_000, TenantSharePercent = 25 };
        openai.CircuitBreaker = new();
        openai.Retry = new() { MaxRetries = 2 };
        options.Models["gpt-large"].Fallbacks = ["upstream:backup", "sim-mini-latest"];
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Empty(errors);
        Assert.True(GatewayConfig.TryCreate(options, out var config, out _));
        Assert.True(config!.TryGetModel("gpt-large", out var large));
        Assert.Equal([("gpt-large", "backup", "gpt-large-2025-01-01"), ("sim-mini", "simulator", "sim-mini")],
            config.FallbacksOf(large).Select(m => (m.Name, m.UpstreamName, m.UpstreamModel)));
        Assert.True(config.TryGetModel("sim-mini", out var mini));
        Assert.Empty(config.FallbacksOf(mini));
    }

    [Fact]
    public void Validate_BadResilienceSettings_ReportsEach()
    {
        var options = TestOptions.Valid();
        var openai = options.Upstreams["openai"];
        openai.TotalTimeout = TimeSpan.Zero;
        openai.MaxRetryWait = TimeSpan.FromSeconds(-1);
        openai.Limits = new() { RequestsPerMinute = 0, TokensPerMinute = -5, TenantSharePercent = 101 };
        openai.CircuitBreaker = new() { FailureRatio = 0, MinimumThroughput = 1, SamplingDuration = TimeSpan.FromMilliseconds(100), BreakDuration = TimeSpan.FromDays(2) };
        openai.Retry = new() { MaxRetries = 11, Delay = TimeSpan.FromMinutes(2) };
        options.Models["gpt-large"].Fallbacks = ["gpt-large", "nope", "upstream:openai", "upstream:missing", "sim-embed", "nope"];
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Equal(
        [
            "Tollgate:Upstreams:openai:TotalTimeout",
            "Tollgate:Upstreams:openai:MaxRetryWait",
            "Tollgate:Upstreams:openai:Limits:RequestsPerMinute",
            "Tollgate:Upstreams:openai:Limits:TokensPerMinute",
            "Tollgate:Upstreams:openai:Limits:TenantSharePercent",
            "Tollgate:Upstreams:openai:CircuitBreaker:FailureRatio",
            "Tollgate:Upstreams:openai:CircuitBreaker:MinimumThroughput",
            "Tollgate:Upstreams:openai:CircuitBreaker:SamplingDuration",
            "Tollgate:Upstreams:openai:CircuitBreaker:BreakDuration",
            "Tollgate:Upstreams:openai:Retry:MaxRetries",
            "Tollgate:Upstreams:openai:Retry:Delay",
            "Tollgate:Models:gpt-large:Fallbacks:0",
            "Tollgate:Models:gpt-large:Fallbacks:1",
            "Tollgate:Models:gpt-large:Fallbacks:2",
            "Tollgate:Models:gpt-large:Fallbacks:3",
            "Tollgate:Models:gpt-large:Fallbacks:4",
            "Tollgate:Models:gpt-large:Fallbacks:5",
        ], errors.Select(e => e.Path));
        Assert.Contains(errors, e => e.Path.EndsWith("Fallbacks:0", StringComparison.Ordinal) && e.Message.Contains("itself", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path.EndsWith("Fallbacks:4", StringComparison.Ordinal) && e.Message.Contains("same type", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path.EndsWith("Fallbacks:5", StringComparison.Ordinal) && e.Message.Contains("twice", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NegativeKeepAliveInterval_IsAnError()
    {
        var options = TestOptions.Valid();
        options.Gateway.StreamKeepAliveInterval = TimeSpan.FromSeconds(-1);
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Equal(["Tollgate:Gateway:StreamKeepAliveInterval"], errors.Select(e => e.Path));
    }
}
