using System.Globalization;

namespace Tollgate.Configuration;

/// <summary>Validates the queue and load-shedding settings (<c>Gateway:QueueLength</c>, <c>MaxQueueWait</c>, <c>Shedding</c>) and the tenants' weights.</summary>
internal static class SheddingValidator
{
    public const int MaxQueueLength = 100_000;
    public const int MaxWeight = 1000;
    public const long MinMemoryBytes = 16L * 1024 * 1024;
    public static readonly TimeSpan MaxQueueWait = TimeSpan.FromMinutes(10);

    public static void Validate(string root, TollgateOptions options, List<ConfigError> errors)
    {
        var g = options.Gateway;
        if (g.QueueLength is < 0 or > MaxQueueLength)
        {
            errors.Add(new ConfigError($"{root}:Gateway:QueueLength", $"must be between 0 (no queue) and {MaxQueueLength}", Str(g.QueueLength)));
        }

        if (g.MaxQueueWait <= TimeSpan.Zero || g.MaxQueueWait > MaxQueueWait)
        {
            errors.Add(new ConfigError($"{root}:Gateway:MaxQueueWait", "must be positive and at most 00:10:00", g.MaxQueueWait.ToString("c", CultureInfo.InvariantCulture)));
        }

        if (g.Shedding.CpuPercent is < 1 or > 100)
        {
            errors.Add(new ConfigError($"{root}:Gateway:Shedding:CpuPercent", "must be between 1 and 100 (leave it out to not watch CPU)", Str(g.Shedding.CpuPercent.Value)));
        }

        if (g.Shedding.MemoryBytes is < MinMemoryBytes)
        {
            errors.Add(new ConfigError($"{root}:Gateway:Shedding:MemoryBytes", $"must be at least {MinMemoryBytes} (16 MiB; leave it out to not watch memory)",
                Str(g.Shedding.MemoryBytes.Value)));
        }

        foreach (var (name, tenant) in options.Tenants)
        {
            Weight($"{root}:Tenants:{name}:Weight", tenant.Weight, errors);
        }

        Weight($"{root}:TenantDefaults:Weight", options.TenantDefaults.Weight, errors);
    }

    private static void Weight(string path, int weight, List<ConfigError> errors)
    {
        if (weight is < 1 or > MaxWeight)
        {
            errors.Add(new ConfigError(path, $"must be a whole number between 1 and {MaxWeight}", Str(weight)));
        }
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}
