using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tollgate.FunctionalTests.Process;

/// <summary><c>tollgate serve --demo</c>: a working key and a curl line, created once per data directory.</summary>
[Collection("process")]
public sealed partial class ServeDemoTests
{
    [Fact]
    public async Task ServeDemo_RunTwiceOnOneDataDirectory_PrintsTheSameWorkingKeyAndCreatesOneKey()
    {
        using var sandbox = new ProcessSandbox();

        string first = await RunDemoOnceAsync(sandbox);
        string second = await RunDemoOnceAsync(sandbox);

        Assert.Equal(first, second);
        var list = await sandbox.RunAsync("keys", "list", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        using var keys = JsonDocument.Parse(list.StandardOutput);
        var key = Assert.Single(keys.RootElement.EnumerateArray().ToList());
        Assert.Equal(("demo", "basic"), (key.GetProperty("tenant").GetString(), key.GetProperty("plan").GetString()));
    }

    private static async Task<string> RunDemoOnceAsync(ProcessSandbox sandbox)
    {
        await using var gateway = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, null, "--demo");
        string curl = await gateway.WaitForLineAsync(l => l.TrimStart().StartsWith("curl ", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        var match = CurlLine().Match(curl);
        Assert.True(match.Success, gateway.Output);
        string key = match.Groups["key"].Value;
        Assert.Equal(gateway.Address, new Uri(match.Groups["base"].Value + "/"));
        Assert.Contains(gateway.Output.Split('\n'), l => l.Trim() == key);

        // The printed key works against the printed address.
        using var http = new HttpClient { BaseAddress = new Uri(match.Groups["base"].Value) };
        Assert.Equal(HttpStatusCode.OK, await KeysCliTests.ChatAsync(http, key, "sim-mini"));

        gateway.Terminate();
        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        return key;
    }

    [GeneratedRegex(@"curl -s (?<base>http://127\.0\.0\.1:[1-9][0-9]*)/v1/chat/completions -H 'Authorization: Bearer (?<key>tgk_[A-Za-z0-9_-]+)'")]
    private static partial Regex CurlLine();
}
