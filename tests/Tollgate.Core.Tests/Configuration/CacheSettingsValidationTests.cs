using Tollgate.Configuration;

namespace Tollgate.Core.Tests.Configuration;

/// <summary>The response cache's settings: the store's bounds, each plan's namespace and hit price.</summary>
public sealed class CacheSettingsValidationTests
{
    [Fact]
    public void Validate_CacheSettingsOutOfRange_ReportsEachWithPathAndValue()
    {
        var options = TestOptions.Valid();
        options.Cache = new CacheOptions { Ttl = TimeSpan.Zero, MaxEntries = 0, MaxBytes = 100, MaxEntryBytes = 10 };
        var plan = options.Plans.First();
        plan.Value.CacheResponses = true;
        plan.Value.CacheNamespace = "global";
        plan.Value.CacheHitPricePercent = 101;
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        (string Path, string? Value)[] expected =
        [
            ("Tollgate:Cache:Ttl", "00:00:00"),
            ("Tollgate:Cache:MaxEntries", "0"),
            ("Tollgate:Cache:MaxEntryBytes", "10"),
            ($"Tollgate:Plans:{plan.Key}:CacheNamespace", "global"),
            ($"Tollgate:Plans:{plan.Key}:CacheHitPricePercent", "101"),
        ];
        Assert.Equal(expected.Order(), errors.Select(e => (e.Path, e.Value)).Order());
    }

    [Fact]
    public void Validate_MaxBytesBelowMaxEntryBytes_IsAnError()
    {
        var options = TestOptions.Valid();
        options.Cache = new CacheOptions { MaxBytes = 4096, MaxEntryBytes = 8192 };
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Equal(("Tollgate:Cache:MaxBytes", "4096"), Assert.Single(errors.Select(e => (e.Path, e.Value))));
    }

    [Theory]
    [InlineData(CacheNamespaces.Tenant)]
    [InlineData(CacheNamespaces.User)]
    [InlineData(CacheNamespaces.Shared)]
    public void Compile_CachingPlanAndModel_AreCarriedToTheRequestPath(string scope)
    {
        var options = TestOptions.Valid();
        var plan = options.Plans.First().Value;
        plan.CacheResponses = true;
        plan.CacheNamespace = scope;
        plan.CacheHitPricePercent = 100;
        options.Models["sim-mini"].CacheResponses = true;

        Assert.True(GatewayConfig.TryCreate(options, out var config, out var errors), string.Join("; ", errors));

        Assert.True(config!.TryGetModel("sim-mini-latest", out var model) && model.CacheResponses);
        Assert.True(config.TryGetModel("sim-embed", out var embed) && !embed.CacheResponses);
    }

    [Fact]
    public void Defaults_CacheNothing()
    {
        Assert.False(new PlanOptions().CacheResponses);
        Assert.False(new ModelOptions().CacheResponses);
        Assert.Equal((CacheNamespaces.Tenant, 0), (new PlanOptions().CacheNamespace, new PlanOptions().CacheHitPricePercent));
        var cache = new CacheOptions();
        Assert.Equal((TimeSpan.FromHours(1), 10_000, 64L * 1024 * 1024, 1024 * 1024), (cache.Ttl, cache.MaxEntries, cache.MaxBytes, cache.MaxEntryBytes));
    }
}
