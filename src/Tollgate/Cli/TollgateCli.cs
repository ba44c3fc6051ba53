using System.CommandLine;
using Tollgate.Hosting;

namespace Tollgate.Cli;

/// <summary>The <c>tollgate</c> command line. Exit codes: 0 success, 2 usage or configuration error, 1 other failure.</summary>
internal static class TollgateCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Tollgate: an LLM policy gateway that keeps consumption bounded.");
        root.Options.Add(CommonOptions.Data);
        root.Options.Add(CommonOptions.Config);
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(UsageCommand.Create());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(SimulateCommand.Create());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("Run 'tollgate --help' for usage.").ConfigureAwait(false);
            return ExitCodes.UsageOrConfig;
        }

        try
        {
            // The host handles SIGTERM itself (drain, settle, flush); the parser must not race it. Its default
            // exception handler must be off too: it would turn a usage or config error into exit code 1.
            return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false })
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is CliUsageException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrConfig;
        }
        catch (InvalidDataException e)
        {
            // The configuration file is not valid JSON: "Failed to load configuration from file '…'." and where.
            await Console.Error.WriteLineAsync($"error: {e.Message} {e.GetBaseException().Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrConfig;
        }
        catch (GatewayConfigException e)
        {
            foreach (var error in e.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error}").ConfigureAwait(false);
            }

            return ExitCodes.UsageOrConfig;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // A bug: show where, and still exit with the documented code for "other failure".
            await Console.Error.WriteLineAsync($"error: unexpected failure: {e}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }
}
