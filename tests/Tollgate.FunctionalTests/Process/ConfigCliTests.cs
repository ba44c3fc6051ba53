namespace Tollgate.FunctionalTests.Process;

/// <summary><c>tollgate config check</c> and <c>tollgate serve</c> on good and broken configurations.</summary>
[Collection("process")]
public sealed class ConfigCliTests
{
    private const string PastedKey = "sk-abc123def456ghi789jkl012mno345pqr678";

    // Many errors at once, several in one model, so that none may hide another.
    private const string BrokenConfig = $$"""
        {
          "Tollgate": {
            "Upstreams": {
              "sim": { "Kind": "simulator" },
              "pigeon": { "Kind": "carrier-pigeon" },
              "nourl": { "Kind": "openai" },
              "leaky": { "Kind": "openai", "BaseUrl": "https://api.example.com/v1", "ApiKeyEnv": "{{PastedKey}}" }
            },
            "Models": {
              "bad": {
                "Upstream": "sim",
                "Pricess": { "Input": 1 },
                "Prices": { "Input": 0.1234567, "Output": 1 },
                "ContextWindow": "lots",
                "Encoding": "p50k_klingon"
              },
              "orphan": { "Upstream": "nowhere" },
              "negative": { "Upstream": "sim", "ContextWindow": -5, "MaxOutputTokens": 10 },
              "toolong": { "Upstream": "sim", "ContextWindow": 1000, "MaxOutputTokens": 2000 }
            },
            "Plans": {
              "free": { "Models": [ "bad", "ghost-model" ] }
            }
          }
        }
        """;

    // Every error in BrokenConfig: its path, and the value the message must quote (null: nothing to quote).
    private static readonly (string Path, string? Value)[] _expectedErrors =
    [
        ("Tollgate:Upstreams:pigeon:Kind", "carrier-pigeon"),
        ("Tollgate:Upstreams:nourl:BaseUrl", null),
        ("Tollgate:Upstreams:leaky:ApiKeyEnv", null),
        ("Tollgate:Models:bad:Pricess", null),
        ("Tollgate:Models:bad:Prices:Input", "0.1234567"),
        ("Tollgate:Models:bad:ContextWindow", "lots"),
        ("Tollgate:Models:bad:Encoding", "p50k_klingon"),
        ("Tollgate:Models:orphan:Upstream", "nowhere"),
        ("Tollgate:Models:negative:ContextWindow", "-5"),
        ("Tollgate:Models:negative:MaxOutputTokens", "10"),
        ("Tollgate:Models:toolong:MaxOutputTokens", "2000"),
        ("Tollgate:Plans:free:Models:1", "ghost-model"),
    ];

    [Fact]
    public async Task ConfigCheck_ManyErrors_ListsEveryOneWithPathAndValueAndExitsTwo()
    {
        using var sandbox = new ProcessSandbox();
        string file = await sandbox.WriteFileAsync("broken.json", BrokenConfig);

        var result = await TollgateExecutable.RunAsync("config", "check", "--config", file);

        Assert.True(result.ExitCode == 2, result.ToString());
        AssertListsEveryError(result);
        Assert.Contains($"{_expectedErrors.Length} error(s)", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_InvalidConfig_ExitsTwoWithEveryErrorAndNeverListens()
    {
        using var sandbox = new ProcessSandbox();
        string file = await sandbox.WriteFileAsync("broken.json", BrokenConfig);

        var result = await sandbox.RunAsync("serve", "--config", file, "--urls", "http://127.0.0.1:0", "--metrics-urls", "http://127.0.0.1:0");

        Assert.True(result.ExitCode == 2, result.ToString());
        AssertListsEveryError(result);
        Assert.DoesNotContain("Now listening", result.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serve", "--urls", "http://127.0.0.1:0", "--metrics-urls", "http://127.0.0.1:0")]
    [InlineData("keys", "list")]
    [InlineData("usage")]
    public async Task Command_ConfigFileNotJson_ExitsTwoNamingTheFileWithoutStackTrace(params string[] command)
    {
        using var sandbox = new ProcessSandbox();
        string file = await sandbox.WriteFileAsync("truncated.json", """{ "Tollgate": { "Models": """);

        var result = await sandbox.RunAsync([.. command, "--config", file]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(file, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("examples/openai.json")]
    [InlineData("examples/local-vllm-ollama.json")]
    public async Task ConfigCheck_ShippedConfiguration_ExitsZero(string? example)
    {
        string[] args = example is null ? ["config", "check"] : ["config", "check", "--config", Path.Combine(TollgateExecutable.RepositoryRoot, example)];

        var result = await TollgateExecutable.RunAsync(args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("OK: ", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("", result.StandardError);
    }

    [Fact]
    public async Task ConfigCheck_RepetitionSettingsOutOfRange_ExitsTwoNamingEach()
    {
        using var sandbox = new ProcessSandbox();
        var root = System.Text.Json.Nodes.JsonNode.Parse(Tollgate.Configuration.ConfigurationLoader.ReadDefault())!;
        root["Tollgate"]!["Repetition"] = new System.Text.Json.Nodes.JsonObject { ["MaxCompressionRatio"] = 1.5, ["MinLength"] = 10, ["MinWords"] = 500 };
        string file = await sandbox.WriteFileAsync("repetition.json", root.ToJsonString());

        var result = await TollgateExecutable.RunAsync("config", "check", "--config", file);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("error: Tollgate:Repetition:MaxCompressionRatio: must be between 2 and 10000 (value: '1.5')", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("error: Tollgate:Repetition:MinLength: must be between 128 and 16777216 (value: '10')", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("2 error(s)", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Tollgate": { "Models": """)]
    [InlineData(null)]
    public async Task ConfigCheck_UnreadableFile_ExitsTwo(string? contents)
    {
        using var sandbox = new ProcessSandbox();
        string file = contents is null ? Path.Combine(sandbox.Root, "missing.json") : await sandbox.WriteFileAsync("truncated.json", contents);

        var result = await TollgateExecutable.RunAsync("config", "check", "--config", file);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(file, result.StandardError, StringComparison.Ordinal);
    }

    private static void AssertListsEveryError(CliResult result)
    {
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
        foreach (var (path, value) in _expectedErrors)
        {
            string line = Assert.Single(lines, l => l.StartsWith($"error: {path}: ", StringComparison.Ordinal));
            if (value is not null)
            {
                Assert.Contains($"'{value}'", line, StringComparison.Ordinal);
            }
        }

        Assert.Equal(_expectedErrors.Length, lines.Count);

        // A secret pasted where a variable name belongs is never echoed whole.
        string output = result.StandardOutput + result.StandardError;
        Assert.DoesNotContain(PastedKey, output, StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", output, StringComparison.Ordinal);
    }
}
