using Tollgate.Configuration;
using Tollgate.Pricing;
using Tollgate.Validation;

namespace Tollgate.Core.Tests.Configuration;

public sealed class GatewayConfigTests
{
    private static GatewayConfig Create()
    {
        Assert.True(GatewayConfig.TryCreate(TestOptions.Valid(), out var config, out var errors));
        Assert.Empty(errors);
        return config!;
    }

    [Fact]
    public void TryGetModel_Alias_ResolvesToTheSameDefinition()
    {
        var config = Create();

        Assert.True(config.TryGetModel("sim-mini-latest", out var byAlias));
        Assert.True(config.TryGetModel("sim-mini", out var byName));
        Assert.Same(byName, byAlias);
        Assert.Equal("sim-mini", byAlias.Name);
        Assert.False(config.TryGetModel("SIM-MINI", out _));
    }

    [Fact]
    public void TryCreate_Prices_CompileToIntegerMicrosWithCachedDefaultingToInput()
    {
        var config = Create();

        config.TryGetModel("sim-mini", out var mini);
        config.TryGetModel("gpt-large", out var large);
        Assert.Equal(new ModelPrice(150_000, 75_000, 600_000), mini.Price);
        Assert.Equal(new ModelPrice(15_000_000, 15_000_000, 60_000_000), large.Price);
        Assert.Equal("gpt-large-2025-01-01", large.UpstreamModel);
        Assert.Equal("sim-mini", mini.UpstreamModel);
        Assert.Equal(["sim-mini", "gpt-large", "sim-embed"], config.Models.Select(m => m.Name));
    }

    [Fact]
    public void IsAllowed_StarPlan_AllowsEveryModel()
    {
        var config = Create();

        Assert.All(config.Models, m => Assert.True(config.IsAllowed("premium", m)));
    }

    [Fact]
    public void IsAllowed_PlanListingAnAlias_AllowsTheModelByAnyName()
    {
        var config = Create();
        config.TryGetModel("sim-mini-latest", out var mini);
        config.TryGetModel("gpt-large", out var large);

        Assert.True(config.IsAllowed("free", mini));
        Assert.False(config.IsAllowed("free", large));
        Assert.True(config.IsAllowed("basic", large));
    }

    [Fact]
    public void IsAllowed_UnknownPlan_AllowsNothing()
    {
        var config = Create();

        Assert.False(config.HasPlan("gold"));
        Assert.True(config.HasPlan("free"));
        Assert.False(config.IsAllowed("gold", config.Models[0]));
    }

    [Fact]
    public void TryCreate_InvalidOptions_ReturnsEveryError()
    {
        var options = TestOptions.Valid();
        options.Models["sim-mini"].Prices.Input = -1m;
        options.Plans["free"].Models.Add("ghost");

        Assert.False(GatewayConfig.TryCreate(options, out var config, out var errors));

        Assert.Null(config);
        Assert.Equal(["Tollgate:Models:sim-mini:Prices:Input", "Tollgate:Plans:free:Models:1"], errors.Select(e => e.Path));
    }

    [Fact]
    public void TryCreate_CustomCompressionThreshold_ChangesTheRepetitionVerdict()
    {
        // 120 distinct words, five times over: a compression ratio of about 5, under the default threshold of 8.
        string text = string.Join(' ', Enumerable.Repeat(string.Join(' ', Enumerable.Range(0, 120).Select(i => $"w{i * 7919 % 100_003}")), 5));
        var options = TestOptions.Valid();
        options.Repetition.MaxCompressionRatio = 3;

        Assert.True(GatewayConfig.TryCreate(options, out var strict, out var errors), string.Join("; ", errors));
        var lenient = Create().Repetition.Inspect(text);
        var verdict = strict!.Repetition.Inspect(text);

        Assert.False(lenient.IsRepetitive);
        Assert.True(verdict.IsRepetitive);
        Assert.Equal(RepetitionReasons.RepeatedSubstring, verdict.Reason);
        Assert.InRange(verdict.CompressionRatio!.Value, 3, 8);
    }

    [Fact]
    public void TryCreate_InvalidRepetitionOptions_RefusedNamingEachSettingAndValue()
    {
        var options = TestOptions.Valid();
        options.Repetition.MaxCompressionRatio = 1;
        options.Repetition.ShingleLength = 1000;

        Assert.False(GatewayConfig.TryCreate(options, out var config, out var errors));

        Assert.Null(config);
        Assert.Equal(
        [
            new ConfigError("Tollgate:Repetition:ShingleLength", "must be between 16 and 256", "1000"),
            new ConfigError("Tollgate:Repetition:MaxCompressionRatio", "must be between 2 and 10000", "1"),
        ], errors);
    }
}
