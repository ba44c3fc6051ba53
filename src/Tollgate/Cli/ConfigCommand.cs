using System.CommandLine;
using Tollgate.Configuration;

namespace Tollgate.Cli;

/// <summary><c>tollgate config check</c> and <c>tollgate config default</c>.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var config = new Command("config", "Check or print configuration.");
        var check = new Command("check", "Validate a configuration (--config FILE, else the built-in one) and list every error with its path and value.");
        check.SetAction(parse =>
        {
            string? file = parse.GetValue(CommonOptions.Config);
            if (file is not null && !File.Exists(file))
            {
                Console.Error.WriteLine($"error: configuration file not found: {file}");
                return ExitCodes.UsageOrConfig;
            }

            var errors = new List<ConfigError>();
            GatewayConfig? loaded;
            try
            {
                loaded = ConfigurationLoader.Load(ConfigurationLoader.Build(file, watch: false), errors);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or System.Text.Json.JsonException)
            {
                Console.Error.WriteLine($"error: {file}: not valid JSON: {e.Message}");
                return ExitCodes.UsageOrConfig;
            }

            if (loaded is null)
            {
                foreach (var error in errors)
                {
                    Console.Error.WriteLine($"error: {error}");
                }

                Console.Error.WriteLine($"{errors.Count} error(s) in {file ?? "the built-in configuration"}");
                return ExitCodes.UsageOrConfig;
            }

            Console.Out.WriteLine($"OK: {loaded.Options.Upstreams.Count} upstream(s), {loaded.Models.Count} model(s), {loaded.Options.Plans.Count} plan(s) in {file ?? "the built-in configuration"}");
            return ExitCodes.Success;
        });
        var print = new Command("default", "Print the built-in configuration (a starting point for your own).");
        print.SetAction(_ =>
        {
            Console.Out.Write(ConfigurationLoader.ReadDefault());
            return ExitCodes.Success;
        });
        config.Subcommands.Add(check);
        config.Subcommands.Add(print);
        return config;
    }
}
