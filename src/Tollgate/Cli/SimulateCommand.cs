using System.CommandLine;
using Tollgate.Configuration;
using Tollgate.Simulator;

namespace Tollgate.Cli;

/// <summary><c>tollgate simulate</c>: the simulated upstream alone, on its own port (tests, benchmarks, demos).</summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where the simulator listens.", DefaultValueFactory = _ => "http://127.0.0.1:8081" };
        var firstToken = new Option<int>("--time-to-first-token") { Description = "Milliseconds before the first token.", DefaultValueFactory = _ => 0 };
        var perToken = new Option<int>("--time-per-token") { Description = "Milliseconds between streamed tokens.", DefaultValueFactory = _ => 0 };
        var command = new Command("simulate", "Run the simulated OpenAI-compatible upstream on its own port.") { urls, firstToken, perToken };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(firstToken) < 0 || parse.GetValue(perToken) < 0)
            {
                throw new CliUsageException("Latencies must not be negative.");
            }

            var latency = new SimulatorLatencyOptions
            {
                TimeToFirstToken = TimeSpan.FromMilliseconds(parse.GetValue(firstToken)),
                TimePerToken = TimeSpan.FromMilliseconds(parse.GetValue(perToken)),
            };
            var engine = new SimulatorEngine(TimeProvider.System, latency);
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.WebHost.ConfigureKestrel(k =>
            {
                Hosting.ListenAddresses.Apply(k, parse.GetValue(urls)!);
                k.AddServerHeader = false;
            });
            var app = builder.Build();
            app.MapSimulator(engine);
            await app.RunAsync().ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
