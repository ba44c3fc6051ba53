using Tollgate.Cli;
using Tollgate.Identity;
using Tollgate.Storage.Sqlite;

namespace Tollgate.Tests.Cli;

/// <summary>The <c>keys</c> commands against a data directory of their own: exit codes and what they store.</summary>
public sealed class KeysCommandTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("tollgate-cli-").FullName;

    public void Dispose()
    {
        new SqliteDatabase(Path.Combine(_data, "tollgate.db")).ClearPool();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Create_WithLimits_StoresCanonicalOverrides()
    {
        int exit = await RunAsync("keys", "create", "--tenant", "acme", "--user", "alice", "--plan", "basic",
            "--limit", "RequestsPerMinute=10", "--limit", "budgetPerDay=2.50");

        Assert.Equal(ExitCodes.Success, exit);
        var key = Assert.Single(await ListAsync());
        Assert.Equal(new Dictionary<string, string> { ["BudgetPerDay"] = "2.5", ["RequestsPerMinute"] = "10" }, Sorted(key.Overrides));
    }

    [Theory]
    [InlineData("Nope=1")]
    [InlineData("RequestsPerMinute=0")]
    [InlineData("BudgetPerDay=0.0000000001")]
    [InlineData("RequestsPerMinute=1,000")]
    [InlineData("RequestsPerMinute=1e3")]
    [InlineData("RequestsPerMinute=-5")]
    [InlineData("TokensPerDay=9223372036854775808")]
    [InlineData("MaxConcurrentRequests=2147483648")]
    public async Task Create_InvalidLimit_ExitsTwoAndStoresNothing(string limit)
    {
        int exit = await RunAsync("keys", "create", "--tenant", "acme", "--user", "alice", "--plan", "basic", "--limit", limit);

        Assert.Equal(ExitCodes.UsageOrConfig, exit);
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task Update_Limits_MergeThenClear()
    {
        await RunAsync("keys", "create", "--tenant", "acme", "--user", "alice", "--plan", "basic", "--limit", "RequestsPerMinute=10", "--limit", "MaxN=2");
        string id = (await ListAsync())[0].Id;

        Assert.Equal(ExitCodes.Success, await RunAsync("keys", "update", id, "--limit", "RequestsPerMinute=20", "--limit", "TokensPerDay=1000"));
        Assert.Equal(
            new Dictionary<string, string> { ["MaxN"] = "2", ["RequestsPerMinute"] = "20", ["TokensPerDay"] = "1000" },
            Sorted((await ListAsync())[0].Overrides));

        Assert.Equal(ExitCodes.Success, await RunAsync("keys", "update", id, "--plan", "premium", "--clear-limits", "--limit", "MaxConcurrentRequests=3"));
        var key = (await ListAsync())[0];
        Assert.Equal("premium", key.Plan);
        Assert.Equal(new Dictionary<string, string> { ["MaxConcurrentRequests"] = "3" }, Sorted(key.Overrides));

        Assert.Equal(ExitCodes.Success, await RunAsync("keys", "update", id, "--clear-limits"));
        Assert.Null((await ListAsync())[0].Overrides);
    }

    [Fact]
    public async Task Update_PlanOnly_KeepsLimits()
    {
        await RunAsync("keys", "create", "--tenant", "acme", "--user", "alice", "--plan", "basic", "--limit", "MaxN=2");
        string id = (await ListAsync())[0].Id;

        Assert.Equal(ExitCodes.Success, await RunAsync("keys", "update", id, "--plan", "free"));

        var key = (await ListAsync())[0];
        Assert.Equal("free", key.Plan);
        Assert.Equal(new Dictionary<string, string> { ["MaxN"] = "2" }, Sorted(key.Overrides));
    }

    [Fact]
    public async Task Update_NothingToChangeUnknownPlanOrBadLimit_ExitsTwoAndChangesNothing()
    {
        await RunAsync("keys", "create", "--tenant", "acme", "--user", "alice", "--plan", "basic", "--limit", "MaxN=2");
        string id = (await ListAsync())[0].Id;

        Assert.Equal(ExitCodes.UsageOrConfig, await RunAsync("keys", "update", id));
        Assert.Equal(ExitCodes.UsageOrConfig, await RunAsync("keys", "update", id, "--plan", "nope", "--limit", "MaxN=3"));
        Assert.Equal(ExitCodes.UsageOrConfig, await RunAsync("keys", "update", id, "--plan", "free", "--limit", "MaxN=0"));
        Assert.Equal(ExitCodes.UsageOrConfig, await RunAsync("keys", "update", "key_missing", "--limit", "MaxN=3"));

        var key = (await ListAsync())[0];
        Assert.Equal("basic", key.Plan);
        Assert.Equal(new Dictionary<string, string> { ["MaxN"] = "2" }, Sorted(key.Overrides));
    }

    [Fact]
    public async Task Import_ItemsWithLimits_StoresEachKeysOwn()
    {
        string file = Path.Combine(_data, "keys.json");
        await File.WriteAllTextAsync(file, """
            [
              {"tenant": "acme", "user": "a", "plan": "free", "limits": {"RequestsPerMinute": "10", "BudgetPerMonth": 12.25}},
              {"tenant": "acme", "user": "b", "plan": "free"}
            ]
            """);

        Assert.Equal(ExitCodes.Success, await RunAsync("keys", "import", file));

        var keys = await ListAsync();
        Assert.Equal(new Dictionary<string, string> { ["BudgetPerMonth"] = "12.25", ["RequestsPerMinute"] = "10" }, Sorted(keys.Single(k => k.User == "a").Overrides));
        Assert.Null(keys.Single(k => k.User == "b").Overrides);
    }

    [Theory]
    [InlineData("""[{"tenant": "acme", "user": "a", "plan": "free", "limits": {"RequestsPerMinutes": "10"}}]""")]
    [InlineData("""[{"tenant": "acme", "user": "a", "plan": "free", "limits": ["RequestsPerMinute"]}]""")]
    [InlineData("""[{"tenant": "acme", "user": "a", "plan": "free", "limits": {"MaxN": true}}]""")]
    [InlineData("""[{"tenant": "acme", "user": "a", "plan": "free", "limits": {"BudgetPerDay": 1e3}}]""")]
    [InlineData("""[{"tenant": "acme", "user": "a", "plan": "free", "limits": {"RequestsPerMinute": " 5"}}]""")]
    [InlineData("""[{"tenant": "acme", "user": "a", "plan": "free", "limits": {"RequestsPerMinute": "+5"}}]""")]
    [InlineData("""[{"tenant": "acme", "user": "a", "plan": "free"}, {"tenant": "acme", "user": "b", "plan": "free", "limits": {"MaxN": "0"}}]""")]
    public async Task Import_InvalidLimits_ExitsTwoAndStoresNothing(string json)
    {
        string file = Path.Combine(_data, "keys.json");
        await File.WriteAllTextAsync(file, json);

        Assert.Equal(ExitCodes.UsageOrConfig, await RunAsync("keys", "import", file));

        Assert.Empty(await ListAsync());
    }

    private Task<int> RunAsync(params string[] args) => TollgateCli.RunAsync([.. args, "--data", _data]);

    private async Task<IReadOnlyList<ApiKeyRecord>> ListAsync()
    {
        var database = new SqliteDatabase(Path.Combine(_data, "tollgate.db"));
        await database.InitializeAsync(CancellationToken.None);
        return await new SqliteApiKeyStore(database).ListAsync(null, CancellationToken.None);
    }

    private static SortedDictionary<string, string>? Sorted(IReadOnlyDictionary<string, string>? overrides) =>
        overrides is null ? null : new SortedDictionary<string, string>(overrides.ToDictionary(), StringComparer.Ordinal);
}
