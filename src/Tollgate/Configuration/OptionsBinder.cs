using Tollgate.Configuration;

namespace Tollgate.Configuration;

/// <summary>
/// Binds <see cref="TollgateOptions"/> one entry at a time, so a type error or an unknown (misspelt) setting in
/// one model does not hide the errors of the others: every problem is reported with its path.
/// </summary>
internal static class OptionsBinder
{
    private static readonly string[] s_sections = ["Upstreams", "Models", "Plans", "Tenants", "TenantDefaults", "Global", "SourceAddresses", "Gateway", "Ledger", "Metrics"];

    public static TollgateOptions Bind(IConfigurationSection root, List<ConfigError> errors)
    {
        var options = new TollgateOptions();
        if (!root.Exists())
        {
            errors.Add(new ConfigError(root.Path, "section is missing"));
            return options;
        }

        foreach (var child in root.GetChildren())
        {
            if (!s_sections.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(new ConfigError(child.Path, $"unknown setting (expected one of {string.Join(", ", s_sections)})"));
            }
        }

        BindMap(root.GetSection("Upstreams"), options.Upstreams, errors);
        BindMap(root.GetSection("Models"), options.Models, errors);
        BindMap(root.GetSection("Plans"), options.Plans, errors);
        BindMap(root.GetSection("Tenants"), options.Tenants, errors);
        options.TenantDefaults = BindOne<TenantOptions>(root.GetSection("TenantDefaults"), errors) ?? options.TenantDefaults;
        options.Global = BindOne<GlobalOptions>(root.GetSection("Global"), errors) ?? options.Global;
        options.SourceAddresses = BindOne<SourceAddressOptions>(root.GetSection("SourceAddresses"), errors) ?? options.SourceAddresses;
        options.Gateway = BindOne<GatewayOptions>(root.GetSection("Gateway"), errors) ?? options.Gateway;
        options.Ledger = BindOne<LedgerOptions>(root.GetSection("Ledger"), errors) ?? options.Ledger;
        options.Metrics = BindOne<MetricsOptions>(root.GetSection("Metrics"), errors) ?? options.Metrics;
        return options;
    }

    private static void BindMap<T>(IConfigurationSection section, Dictionary<string, T> target, List<ConfigError> errors)
        where T : class, new()
    {
        foreach (var child in section.GetChildren())
        {
            if (BindOne<T>(child, errors) is { } value)
            {
                target[child.Key] = value;
            }
        }
    }

    private static T? BindOne<T>(IConfigurationSection section, List<ConfigError> errors)
        where T : class, new()
    {
        if (!section.Exists())
        {
            return null;
        }

        try
        {
            var value = new T();
            section.Bind(value, o => o.ErrorOnUnknownConfiguration = true);
            return value;
        }
        catch (InvalidOperationException e)
        {
            errors.Add(Describe(section, e));
            return null;
        }
    }

    private static ConfigError Describe(IConfigurationSection section, InvalidOperationException e)
    {
        // "Failed to convert configuration value '…' at 'Tollgate:Models:x:ContextWindow' to type 'System.Int32'."
        string message = e.Message;
        int at = message.IndexOf(" at '", StringComparison.Ordinal);
        if (at >= 0)
        {
            int end = message.IndexOf('\'', at + 5);
            if (end > at)
            {
                string path = message[(at + 5)..end];
                string? value = section.GetSection(path[Math.Min(path.Length, section.Path.Length)..].TrimStart(':')).Value;
                return new ConfigError(path, "has the wrong type: " + message, value);
            }
        }

        return new ConfigError(section.Path, message);
    }
}
