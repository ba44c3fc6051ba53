using Tollgate.Configuration;

namespace Tollgate.Core.Tests.Configuration;

/// <summary>Hosted tool settings: the plan's tool types and call cap, the model's fees per call.</summary>
public sealed class HostedToolsValidatorTests
{
    [Fact]
    public void Validate_ValidHostedToolSettings_ReportsNothingAndCompilesFeesToMicros()
    {
        var options = TestOptions.Valid();
        options.Plans["basic"].HostedTools = ["web_search", "file_search"];
        options.Plans["basic"].MaxToolCalls = 1000;
        options.Models["sim-mini"].Prices.ToolCalls = new(StringComparer.Ordinal) { ["web_search"] = 0.01m, ["file_search"] = 0.0025m, ["code_interpreter"] = 0m };

        Assert.True(GatewayConfig.TryCreate(options, out var config, out var errors), string.Join("; ", errors));

        Assert.True(config!.TryGetModel("sim-mini", out var model));
        Assert.True(model.ToolCallPrices.TryGetFee("file_search", out long micros));
        Assert.Equal(2_500, micros);
        Assert.Equal(10_000, model.ToolCallPrices.HighestMicros);
        Assert.True(config.TryGetModel("gpt-large", out var unpriced));
        Assert.True(unpriced.ToolCallPrices.IsEmpty);
    }

    [Fact]
    public void Validate_BadHostedToolSettings_ReportsEachWithPathAndValue()
    {
        var options = TestOptions.Valid();
        options.Plans["basic"].HostedTools = ["web_search", "function", "Web Search", ""];
        options.Plans["basic"].MaxToolCalls = 0;
        options.Models["sim-mini"].Prices.ToolCalls = new(StringComparer.Ordinal)
        {
            ["web_search"] = 0.0000001m,
            ["file_search"] = -1m,
            ["namespace"] = 0.01m,
            ["image_generation"] = 1001m,
        };
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Equal(
        [
            ("Tollgate:Models:sim-mini:Prices:ToolCalls:web_search", "0.0000001"),
            ("Tollgate:Models:sim-mini:Prices:ToolCalls:file_search", "-1"),
            ("Tollgate:Models:sim-mini:Prices:ToolCalls:namespace", "namespace"),
            ("Tollgate:Models:sim-mini:Prices:ToolCalls:image_generation", "1001"),
            ("Tollgate:Plans:basic:HostedTools:1", "function"),
            ("Tollgate:Plans:basic:HostedTools:2", "Web Search"),
            ("Tollgate:Plans:basic:HostedTools:3", ""),
            ("Tollgate:Plans:basic:MaxToolCalls", "0"),
        ], errors.Select(e => (e.Path, e.Value)).OrderBy(e => e.Path.Contains("Plans", StringComparison.Ordinal)).ToList());
    }
}
