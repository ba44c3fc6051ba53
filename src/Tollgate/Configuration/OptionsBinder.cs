using System.Collections;
using System.Reflection;
using Tollgate.Configuration;

namespace Tollgate.Configuration;

/// <summary>
/// Binds <see cref="TollgateOptions"/> one setting at a time, so a type error or an unknown (misspelt) setting does
/// not hide the errors beside it: every problem is reported with its path, and a setting that fails keeps its
/// default so the rest of the configuration can still be validated.
/// </summary>
internal static class OptionsBinder
{
    private static readonly string[] _sections = ["Upstreams", "Models", "Plans", "Tenants", "TenantDefaults", "Global", "SourceAddresses", "Gateway", "Repetition", "Cache", "Ledger", "Metrics"];

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
            if (!_sections.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(new ConfigError(child.Path, $"unknown setting (expected one of {string.Join(", ", _sections)})"));
            }
        }

        BindMap(root.GetSection("Upstreams"), options.Upstreams, errors);
        BindMap(root.GetSection("Models"), options.Models, errors);
        BindMap(root.GetSection("Plans"), options.Plans, errors);
        BindMap(root.GetSection("Tenants"), options.Tenants, errors);
        BindObject(options.TenantDefaults, root.GetSection("TenantDefaults"), errors);
        BindObject(options.Global, root.GetSection("Global"), errors);
        BindObject(options.SourceAddresses, root.GetSection("SourceAddresses"), errors);
        BindObject(options.Gateway, root.GetSection("Gateway"), errors);
        BindObject(options.Repetition, root.GetSection("Repetition"), errors);
        BindObject(options.Cache, root.GetSection("Cache"), errors);
        BindObject(options.Ledger, root.GetSection("Ledger"), errors);
        BindObject(options.Metrics, root.GetSection("Metrics"), errors);
        return options;
    }

    private static void BindMap<T>(IConfigurationSection section, Dictionary<string, T> target, List<ConfigError> errors)
        where T : class, new()
    {
        foreach (var child in section.GetChildren())
        {
            var value = new T();
            BindObject(value, child, errors);
            target[child.Key] = value;
        }
    }

    private static void BindObject(object target, IConfigurationSection section, List<ConfigError> errors)
    {
        if (section.Value is { Length: > 0 } scalar)
        {
            errors.Add(new ConfigError(section.Path, "must be an object, not a single value", scalar));
            return;
        }

        var type = target.GetType();
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite)
            {
                string expected = string.Join(", ", type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name));
                errors.Add(new ConfigError(child.Path, $"unknown setting (expected one of {expected})"));
            }
            else if (IsOptionsObject(property.PropertyType))
            {
                var nested = property.GetValue(target) ?? Activator.CreateInstance(property.PropertyType)!;
                BindObject(nested, child, errors);
                property.SetValue(target, nested);
            }
            else
            {
                BindValue(target, property, child, errors);
            }
        }
    }

    private static void BindValue(object target, PropertyInfo property, IConfigurationSection section, List<ConfigError> errors)
    {
        bool isList = property.PropertyType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(property.PropertyType);
        if (!isList && section.Value is null && section.GetChildren().Any())
        {
            errors.Add(new ConfigError(section.Path, $"must be {Describe(property.PropertyType)}, not an object"));
            return;
        }

        if (isList && section.Value is { Length: > 0 } single)
        {
            errors.Add(new ConfigError(section.Path, "must be a list ([ … ]), not a single value", single));
            return;
        }

        try
        {
            if (section.Get(property.PropertyType) is { } value)
            {
                property.SetValue(target, value);
            }
        }
        catch (InvalidOperationException)
        {
            errors.Add(new ConfigError(section.Path, $"must be {Describe(property.PropertyType)}", section.Value));
        }
    }

    private static bool IsOptionsObject(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(type);

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(int) || type == typeof(long) ? "a whole number"
            : type == typeof(decimal) || type == typeof(double) ? "a number"
            : type == typeof(TimeSpan) ? "a duration (hh:mm:ss[.fff] or d.hh:mm:ss)"
            : type == typeof(bool) ? "true or false"
            : type == typeof(string) ? "a string"
            : "a list";
    }
}
