using System.CommandLine;
using Tollgate.Hosting;
using Tollgate.Identity;

namespace Tollgate.Cli;

/// <summary><c>tollgate serve</c>: run the gateway.</summary>
internal static class ServeCommand
{
    private const string DemoKeyFile = "demo-key.txt";

    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where the API listens.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var metricsUrls = new Option<string?>("--metrics-urls") { Description = "Where /metrics listens (overrides Tollgate:Metrics:Urls)." };
        var demo = new Option<bool>("--demo") { Description = "Create (once) a demo tenant, user and key, and print the key with a curl line." };
        var command = new Command("serve", "Run the gateway.") { urls, metricsUrls, demo };
        command.SetAction(async (parse, ct) =>
        {
            var options = new GatewayHostOptions
            {
                DataDirectory = parse.GetValue(CommonOptions.Data),
                ConfigFile = parse.GetValue(CommonOptions.Config),
                Urls = parse.GetValue(urls)!,
                MetricsUrls = parse.GetValue(metricsUrls),
            };
            if (options.ConfigFile is not null && !File.Exists(options.ConfigFile))
            {
                throw new CliUsageException($"Configuration file not found: {options.ConfigFile}");
            }

            var app = await GatewayApp.CreateAsync(options, ct).ConfigureAwait(false);
            await app.StartAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(demo))
            {
                // After start-up, so the curl line names the real address (with port 0, the one picked).
                await PrintDemoKeyAsync(app, app.Address, ct).ConfigureAwait(false);
            }

            await app.WaitForShutdownAsync().ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task PrintDemoKeyAsync(GatewayApp app, Uri address, CancellationToken cancellationToken)
    {
        var data = app.Services.GetRequiredService<DataDirectory>();
        string path = Path.Combine(data.Path, DemoKeyFile);
        string secret;
        if (File.Exists(path))
        {
            secret = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
        }
        else
        {
            var issuer = app.Services.GetRequiredService<ApiKeyIssuer>();
            (_, secret) = await issuer.CreateAsync(new ApiKeyIssuer.Request("demo", "demo-user", "basic", Name: "demo"), cancellationToken).ConfigureAwait(false);
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using var file = new FileStream(path, fileOptions);
            await file.WriteAsync(System.Text.Encoding.ASCII.GetBytes(secret), cancellationToken).ConfigureAwait(false);
        }

        string baseUrl = address.GetLeftPart(UriPartial.Authority);
        Console.Out.WriteLine($"Demo key (tenant demo, user demo-user, plan basic; saved in {path}):");
        Console.Out.WriteLine($"  {secret}");
        Console.Out.WriteLine("Try it:");
        Console.Out.WriteLine($"  curl -s {baseUrl}/v1/chat/completions -H 'Authorization: Bearer {secret}' -H 'Content-Type: application/json' -d '{{\"model\":\"sim-mini\",\"messages\":[{{\"role\":\"user\",\"content\":\"Hello!\"}}]}}'");
    }
}
