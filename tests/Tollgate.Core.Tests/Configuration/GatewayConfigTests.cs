using Tollgate.Configuration;
using Tollgate.Pricing;

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
}
