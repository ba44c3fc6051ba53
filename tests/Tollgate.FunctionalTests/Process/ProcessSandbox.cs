using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.FunctionalTests.Process;

/// <summary>
/// A fresh temporary directory for one process test: the gateway's data directory (<see cref="DataDirectory"/>) and
/// the configuration files written for it. Runs CLI commands against that data directory; deleted on dispose.
/// </summary>
internal sealed class ProcessSandbox : IDisposable
{
    private static readonly Lazy<Task<string>> _defaultConfig = new(ReadDefaultConfigAsync);

    public ProcessSandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "tollgate-proc-" + Guid.NewGuid().ToString("n")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string DataDirectory => Path.Combine(Root, "data");

    public LedgerFile Ledger => new(Path.Combine(DataDirectory, "tollgate.db"));

    /// <summary>Writes the built-in configuration (as <c>tollgate config default</c> prints it), changed by <paramref name="configure"/> (which gets the <c>Tollgate</c> section).</summary>
    public async Task<string> WriteConfigAsync(Action<JsonObject> configure, string name = "tollgate.json")
    {
        var root = JsonNode.Parse(await _defaultConfig.Value)!.AsObject();
        configure(root["Tollgate"]!.AsObject());
        return await WriteFileAsync(name, root.ToJsonString());
    }

    public async Task<string> WriteFileAsync(string name, string contents)
    {
        string path = Path.Combine(Root, name);
        await File.WriteAllTextAsync(path, contents);
        return path;
    }

    /// <summary>Runs <c>tollgate <paramref name="args"/> --data <see cref="DataDirectory"/></c> to completion.</summary>
    public Task<CliResult> RunAsync(params string[] args) => TollgateExecutable.RunAsync([.. args, "--data", DataDirectory], TollgateExecutable.DefaultTimeout);

    /// <summary>Creates a key with <c>keys create --json</c>; returns its id and secret.</summary>
    public async Task<(string Id, string Secret)> CreateKeyAsync(string plan = "basic", string tenant = "acme", string user = "alice")
    {
        var result = await RunAsync("keys", "create", "--tenant", tenant, "--user", user, "--plan", plan, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        return (json.RootElement.GetProperty("id").GetString()!, json.RootElement.GetProperty("key").GetString()!);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<string> ReadDefaultConfigAsync()
    {
        var result = await TollgateExecutable.RunAsync("config", "default");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StandardOutput;
    }
}
