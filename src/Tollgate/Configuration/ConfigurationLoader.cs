using System.Reflection;
using Tollgate.Configuration;

namespace Tollgate.Configuration;

/// <summary>
/// Builds the configuration: the file given with <c>--config</c> (watched and reloaded) or the built-in default,
/// then <c>TOLLGATE__…</c> environment variables on top (<c>TOLLGATE__Models__sim-mini__Prices__Input=0.2</c>).
/// </summary>
internal static class ConfigurationLoader
{
    public const string DefaultResourceName = "tollgate.defaults.json";

    public static IConfigurationRoot Build(string? configFile, bool watch)
    {
        var builder = new ConfigurationBuilder();
        bool initialLoadDone = false;
        if (configFile is null)
        {
            builder.AddJsonStream(OpenDefault());
        }
        else
        {
            string full = Path.GetFullPath(configFile);
            var files = new ConfigFileProvider(full);
            builder.AddJsonFile(source =>
            {
                source.FileProvider = files;
                source.Path = Path.GetFileName(full);
                source.Optional = false;
                source.ReloadOnChange = watch;
                // A half-written or malformed file on reload must not crash the gateway: the provider then holds no
                // values, the monitor rejects the result, and the last good configuration stays in force.
                source.OnLoadException = context => context.Ignore = initialLoadDone;
            });
            // The JSON source does not own a file provider it was given: this one stops the watcher with the root.
            builder.Add(new DisposerSource(files));
        }

        builder.AddEnvironmentVariables();
        var root = builder.Build();
        initialLoadDone = true;
        return root;
    }

    private sealed class DisposerSource(IDisposable owned) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => new DisposerProvider(owned);
    }

    private sealed class DisposerProvider(IDisposable owned) : ConfigurationProvider, IDisposable
    {
        public void Dispose() => owned.Dispose();
    }

    public static Stream OpenDefault() =>
        Assembly.GetExecutingAssembly().GetManifestResourceStream(DefaultResourceName)
        ?? throw new InvalidOperationException("The built-in default configuration is missing from the assembly.");

    /// <summary>The built-in default configuration as JSON text.</summary>
    public static string ReadDefault()
    {
        using var reader = new StreamReader(OpenDefault());
        return reader.ReadToEnd();
    }

    /// <summary>Binds and validates; returns the compiled config or every error found.</summary>
    public static GatewayConfig? Load(IConfiguration configuration, List<ConfigError> errors)
    {
        int before = errors.Count;
        var options = OptionsBinder.Bind(configuration.GetSection(TollgateOptions.SectionName), errors);
        var bindingErrors = errors.Skip(before).Select(e => e.Path).ToHashSet(StringComparer.OrdinalIgnoreCase);

        // Validate even when binding failed (a failed setting keeps its default), so one typo does not hide the
        // other errors; a setting already reported as unbindable is not reported twice.
        if (!GatewayConfig.TryCreate(options, out var config, out var validationErrors))
        {
            errors.AddRange(validationErrors.Where(e => !bindingErrors.Contains(e.Path)));
            return null;
        }

        return bindingErrors.Count > 0 ? null : config;
    }
}
