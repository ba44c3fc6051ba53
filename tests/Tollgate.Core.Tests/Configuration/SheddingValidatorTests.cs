using Tollgate.Configuration;

namespace Tollgate.Core.Tests.Configuration;

public sealed class SheddingValidatorTests
{
    [Fact]
    public void Validate_Defaults_ReportsNothingAndWeightIsOne()
    {
        var options = TestOptions.Valid();
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Empty(errors);
        Assert.Equal((256, TimeSpan.FromSeconds(10), 1), (options.Gateway.QueueLength, options.Gateway.MaxQueueWait, options.TenantDefaults.Weight));
        Assert.Equal((null, null), (options.Gateway.Shedding.CpuPercent, options.Gateway.Shedding.MemoryBytes));
    }

    [Fact]
    public void Validate_EveryBadSetting_ReportedWithPathAndValue()
    {
        var options = TestOptions.Valid();
        options.Gateway.QueueLength = -1;
        options.Gateway.MaxQueueWait = TimeSpan.Zero;
        options.Gateway.Shedding.CpuPercent = 101;
        options.Gateway.Shedding.MemoryBytes = 1024;
        options.TenantDefaults.Weight = 0;
        options.Tenants["acme"] = new TenantOptions { Weight = 1001 };
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Equal(
        [
            new ConfigError("Tollgate:Gateway:QueueLength", "must be between 0 (no queue) and 100000", "-1"),
            new ConfigError("Tollgate:Gateway:MaxQueueWait", "must be positive and at most 00:10:00", "00:00:00"),
            new ConfigError("Tollgate:Gateway:Shedding:CpuPercent", "must be between 1 and 100 (leave it out to not watch CPU)", "101"),
            new ConfigError("Tollgate:Gateway:Shedding:MemoryBytes", "must be at least 16777216 (16 MiB; leave it out to not watch memory)", "1024"),
            new ConfigError("Tollgate:Tenants:acme:Weight", "must be a whole number between 1 and 1000", "1001"),
            new ConfigError("Tollgate:TenantDefaults:Weight", "must be a whole number between 1 and 1000", "0"),
        ], errors);
    }

    [Theory]
    [InlineData(0, "00:10:00", 1, 16777216L, 1000)]
    [InlineData(100000, "00:00:00.001", 100, null, 1)]
    public void Validate_Bounds_Accepted(int queueLength, string maxWait, int cpu, long? memory, int weight)
    {
        var options = TestOptions.Valid();
        options.Gateway.QueueLength = queueLength;
        options.Gateway.MaxQueueWait = TimeSpan.Parse(maxWait, System.Globalization.CultureInfo.InvariantCulture);
        options.Gateway.Shedding.CpuPercent = cpu;
        options.Gateway.Shedding.MemoryBytes = memory;
        options.Tenants["acme"] = new TenantOptions { Weight = weight };
        var errors = new List<ConfigError>();

        TollgateOptionsValidator.Validate(options, errors);

        Assert.Empty(errors);
    }
}
