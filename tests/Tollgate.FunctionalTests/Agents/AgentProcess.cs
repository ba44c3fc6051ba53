using System.Diagnostics;

namespace Tollgate.FunctionalTests.Agents;

/// <summary>
/// A coding agent's command line, installed from npm at a pinned version into <c>tests/agents</c> (scripts/test.sh runs
/// <c>npm ci</c> there), run to completion as a child process in a workspace of its own.
/// </summary>
internal static class AgentProcess
{
    /// <summary>Runs <c>tests/agents/node_modules/.bin/<paramref name="command"/></c> and returns its exit code and output.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string command, IEnumerable<string> arguments, string workspace, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(Find(command))
        {
            WorkingDirectory = workspace,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within 120 s: {await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string Find(string command)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tollgate.slnx")))
            {
                string candidate = Path.Combine(directory.FullName, "tests", "agents", "node_modules", ".bin", command);
                Assert.True(File.Exists(candidate), $"{candidate} is missing: run npm ci in tests/agents (scripts/test.sh does)");
                return candidate;
            }
        }

        throw new InvalidOperationException("The repository root (Tollgate.slnx) was not found above the test binaries.");
    }
}
