namespace Tollgate.FunctionalTests.Process;

/// <summary><c>tollgate simulate</c> as a child process: an upstream that outlives the gateways pointed at it.</summary>
internal sealed partial class TollgateProcess
{
    /// <summary>Starts <c>tollgate simulate</c> on loopback port 0 and waits until it listens (<see cref="Address"/>).</summary>
    public static async Task<TollgateProcess> StartSimulateAsync()
    {
        var process = new TollgateProcess(["simulate", "--urls", "http://127.0.0.1:0"]);
        try
        {
            string line = await process.WaitForLineAsync(l => ListeningLine().IsMatch(l), StartupTimeout);
            process.Address = new Uri(ListeningLine().Match(line).Groups[1].Value);
            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }
}
