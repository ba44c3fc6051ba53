using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Tollgate.FunctionalTests.Process;

/// <summary>What a finished <c>tollgate</c> command left behind.</summary>
internal sealed record CliResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}{Environment.NewLine}stdout:{Environment.NewLine}{StandardOutput}{Environment.NewLine}stderr:{Environment.NewLine}{StandardError}";
}

/// <summary>
/// The built <c>tollgate</c> executable, run as <c>dotnet tollgate.dll …</c> in a child process: finds the
/// assembly, builds a hermetic start-up (no inherited <c>TOLLGATE*</c> variables), and runs commands to completion.
/// </summary>
internal static class TollgateExecutable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly Lazy<string> _dll = new(FindDll);
    private static readonly Lazy<string> _repositoryRoot = new(FindRepositoryRoot);

    /// <summary>The full path of <c>tollgate.dll</c> (beside the tests, else under <c>src/Tollgate/bin</c>).</summary>
    public static string DllPath => _dll.Value;

    /// <summary>The repository root (the directory holding <c>Tollgate.slnx</c>).</summary>
    public static string RepositoryRoot => _repositoryRoot.Value;

    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(DllPath);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The gateway reads TOLLGATE__… as configuration and TOLLGATE_DATA as its data directory: none may leak in.
        foreach (string name in info.Environment.Keys.Where(k => k.StartsWith("TOLLGATE", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        return info;
    }

    /// <summary>Runs <c>tollgate <paramref name="args"/></c> to completion (killed after <see cref="DefaultTimeout"/>).</summary>
    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(args, DefaultTimeout);

    public static async Task<CliResult> RunAsync(IReadOnlyList<string> args, TimeSpan timeout)
    {
        using var process = new System.Diagnostics.Process { StartInfo = StartInfo(args) };
        process.Start();
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"'tollgate {string.Join(' ', args)}' did not exit within {timeout}.{Environment.NewLine}{await stdout}{await stderr}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
        string runtime = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd(Path.DirectorySeparatorChar);
        string root = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        string candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }

    private static string FindDll()
    {
        // The test project references src/Tollgate, so the build copies tollgate.dll and its runtimeconfig here.
        string beside = Path.Combine(AppContext.BaseDirectory, "tollgate.dll");
        if (File.Exists(beside) && File.Exists(Path.Combine(AppContext.BaseDirectory, "tollgate.runtimeconfig.json")))
        {
            return beside;
        }

        // Else the host project's own output, same configuration and framework as the tests (bin/<Configuration>/<tfm>/).
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = output.Name;
        string configuration = output.Parent?.Name ?? "Debug";
        string built = Path.Combine(RepositoryRoot, "src", "Tollgate", "bin", configuration, framework, "tollgate.dll");
        return File.Exists(built) ? built : throw new FileNotFoundException($"tollgate.dll is neither beside the tests nor at {built}; build the solution first.");
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tollgate.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No Tollgate.slnx above {AppContext.BaseDirectory}.");
    }
}
