using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Tollgate.FunctionalTests.Process;

/// <summary>
/// A running <c>tollgate serve</c> child process on loopback port 0. Captures stdout and stderr line by line,
/// finds the API and metrics listeners from the <c>Now listening on:</c> log lines, and stops the process with a
/// real SIGTERM or SIGKILL. Disposing always kills what is still running.
/// </summary>
internal sealed partial class TollgateProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);

    private const int SigTerm = 15;

    private readonly System.Diagnostics.Process _process;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];
    private int _openStreams = 2;

    private TollgateProcess(IReadOnlyList<string> args)
    {
        Arguments = args;
        _process = new System.Diagnostics.Process { StartInfo = TollgateExecutable.StartInfo(args) };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, "");
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, "stderr: ");
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public IReadOnlyList<string> Arguments { get; }

    public int Id => _process.Id;

    /// <summary>The API listener, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The <c>/metrics</c> listener.</summary>
    public Uri MetricsAddress { get; private set; } = null!;

    /// <summary>Everything written so far; stderr lines are prefixed with <c>stderr: </c>.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join(Environment.NewLine, _lines);
            }
        }
    }

    /// <summary>
    /// Starts <c>tollgate serve --data <paramref name="dataDirectory"/></c> with both listeners on port 0 and waits
    /// until both listen.
    /// </summary>
    public static async Task<TollgateProcess> StartServeAsync(string dataDirectory, string? configFile = null, params string[] extraArgs)
    {
        List<string> args = ["serve", "--data", dataDirectory, "--urls", "http://127.0.0.1:0", "--metrics-urls", "http://127.0.0.1:0"];
        if (configFile is not null)
        {
            args.AddRange(["--config", configFile]);
        }

        args.AddRange(extraArgs);
        var process = new TollgateProcess(args);
        try
        {
            await process.FindListenersAsync();
            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Completes with the first line (already written or yet to come) that <paramref name="match"/> accepts.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (string line in _lines)
            {
                if (match(line))
                {
                    return Task.FromResult(line);
                }
            }

            if (_openStreams == 0)
            {
                return Task.FromException<string>(new InvalidOperationException($"tollgate exited without writing the line awaited.{Environment.NewLine}{OutputUnlocked()}"));
            }

            _waiters.Add((match, found));
        }

        return WithDiagnosticsAsync(found.Task, timeout);
    }

    /// <summary>Sends SIGTERM, as a service manager or <c>docker stop</c> does.</summary>
    public void Terminate()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("SIGTERM needs a POSIX system.");
        }

        if (Kill(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>Sends SIGKILL (<c>kill -9</c>): no shutdown code runs.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    /// <summary>Waits for the process to exit and for its output to be read; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            // WaitForExitAsync also waits for the end of the redirected output.
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"'tollgate {string.Join(' ', Arguments)}' (pid {_process.Id}) did not exit within {timeout}.{Environment.NewLine}{Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started, or already reaped.
        }

        _process.Dispose();
    }

    // kill(2): .NET can send SIGKILL (Process.Kill) but not SIGTERM.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    private async Task FindListenersAsync()
    {
        // The API and the metrics listener log the same line; tell them apart by asking each for /healthz, which
        // only the API serves.
        string first = await WaitForLineAsync(l => ListeningLine().IsMatch(l), StartupTimeout);
        string second = await WaitForLineAsync(l => l != first && ListeningLine().IsMatch(l), StartupTimeout);
        var candidates = new[] { first, second }.Select(l => new Uri(ListeningLine().Match(l).Groups[1].Value)).ToArray();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var api = new List<Uri>();
        foreach (var candidate in candidates)
        {
            using var response = await http.GetAsync(new Uri(candidate, "/healthz"));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                api.Add(candidate);
            }
        }

        Address = Assert.Single(api);
        MetricsAddress = candidates.Single(c => c != Address);
    }

    private void OnLine(string? line, string prefix)
    {
        List<TaskCompletionSource<string>> completed = [];
        List<TaskCompletionSource<string>> orphaned = [];
        lock (_gate)
        {
            if (line is null)
            {
                if (--_openStreams == 0)
                {
                    orphaned.AddRange(_waiters.Select(w => w.Found));
                    _waiters.Clear();
                }
            }
            else
            {
                string entry = prefix + line;
                _lines.Add(entry);
                for (int i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Match(entry))
                    {
                        completed.Add(_waiters[i].Found);
                        _waiters.RemoveAt(i);
                    }
                }

                foreach (var found in completed)
                {
                    found.TrySetResult(entry);
                }
            }
        }

        foreach (var found in orphaned)
        {
            found.TrySetException(new InvalidOperationException($"tollgate exited without writing the line awaited.{Environment.NewLine}{Output}"));
        }
    }

    private async Task<string> WithDiagnosticsAsync(Task<string> found, TimeSpan timeout)
    {
        try
        {
            return await found.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"tollgate wrote no such line within {timeout}.{Environment.NewLine}{Output}");
        }
    }

    private string OutputUnlocked() => string.Join(Environment.NewLine, _lines);
}
