using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tollgate.FunctionalTests.Process;

/// <summary><c>tollgate keys …</c> and <c>tollgate usage</c> as separate processes, alone and beside a running <c>serve</c>.</summary>
[Collection("process")]
public sealed partial class KeysCliTests
{
    [Fact]
    public async Task Keys_Lifecycle_EachCommandDoesWhatItSaysAndNeverPrintsKeyMaterialAfterwards()
    {
        using var sandbox = new ProcessSandbox();

        // create (text): the id and the key, once.
        var created = await sandbox.RunAsync("keys", "create", "--tenant", "acme", "--user", "alice", "--plan", "basic");
        Assert.True(created.ExitCode == 0, created.ToString());
        string textId = CreatedLine().Match(created.StandardOutput).Groups[1].Value;
        string textSecret = KeyLine().Match(created.StandardOutput).Groups[1].Value;
        Assert.StartsWith("key_", textId, StringComparison.Ordinal);
        Assert.StartsWith("tgk_", textSecret, StringComparison.Ordinal);

        // create (JSON)
        var json = await sandbox.RunAsync("keys", "create", "--tenant", "acme", "--user", "bob", "--plan", "basic", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        string id;
        string secret;
        using (var document = JsonDocument.Parse(json.StandardOutput))
        {
            id = document.RootElement.GetProperty("id").GetString()!;
            secret = document.RootElement.GetProperty("key").GetString()!;
            Assert.Equal(("acme", "bob", "basic", "active"), (Str(document, "tenant"), Str(document, "user"), Str(document, "plan"), Str(document, "status")));
        }

        Assert.StartsWith("key_", id, StringComparison.Ordinal);
        Assert.StartsWith("tgk_", secret, StringComparison.Ordinal);
        Assert.NotEqual(textSecret, secret);

        // list and show: ids, never secrets.
        var list = await sandbox.RunAsync("keys", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(textId, list.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(id, list.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("2 key(s)", list.StandardOutput, StringComparison.Ordinal);
        var listJson = await sandbox.RunAsync("keys", "list", "--json");
        Assert.True(listJson.ExitCode == 0, listJson.ToString());
        using (var document = JsonDocument.Parse(listJson.StandardOutput))
        {
            Assert.Equal(2, document.RootElement.GetArrayLength());
            Assert.All(document.RootElement.EnumerateArray(), k => Assert.False(k.TryGetProperty("key", out _)));
        }

        var show = await sandbox.RunAsync("keys", "show", id);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains(id, show.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("plan=basic", show.StandardOutput, StringComparison.Ordinal);
        foreach (var output in new[] { list, listJson, show })
        {
            Assert.DoesNotContain(secret, output.StandardOutput + output.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain(textSecret, output.StandardOutput + output.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("tgk_", output.StandardOutput, StringComparison.Ordinal);
        }

        // update
        var update = await sandbox.RunAsync("keys", "update", id, "--plan", "premium");
        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Equal("premium", await ShowAsync(sandbox, id, "plan"));

        // rotate: same id, a new secret.
        var rotate = await sandbox.RunAsync("keys", "rotate", id, "--grace", "1h", "--json");
        Assert.True(rotate.ExitCode == 0, rotate.ToString());
        using (var document = JsonDocument.Parse(rotate.StandardOutput))
        {
            Assert.Equal(id, Str(document, "id"));
            string rotated = Str(document, "key");
            Assert.StartsWith("tgk_", rotated, StringComparison.Ordinal);
            Assert.NotEqual(secret, rotated);
            Assert.NotNull(Str(document, "rotated_at"));
        }

        // revoke
        var revoke = await sandbox.RunAsync("keys", "revoke", id);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        Assert.Equal("revoked", await ShowAsync(sandbox, id, "status"));
        Assert.Equal("active", await ShowAsync(sandbox, textId, "status"));
    }

    [Fact]
    public async Task KeysImport_ThreeKeys_PrintsArrayOfThreeWithIdsAndKeys()
    {
        using var sandbox = new ProcessSandbox();
        string file = await sandbox.WriteFileAsync("keys.json", """
            [
              { "tenant": "t1", "user": "u1", "plan": "free" },
              { "tenant": "t1", "user": "u2", "plan": "basic", "name": "second" },
              { "tenant": "t2", "user": "u3", "plan": "premium", "expires": "30d" }
            ]
            """);

        var result = await sandbox.RunAsync("keys", "import", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.StandardOutput);
        var keys = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, keys.Count);
        Assert.All(keys, k => Assert.StartsWith("key_", k.GetProperty("id").GetString(), StringComparison.Ordinal));
        Assert.All(keys, k => Assert.StartsWith("tgk_", k.GetProperty("key").GetString(), StringComparison.Ordinal));
        Assert.Equal(3, keys.Select(k => k.GetProperty("key").GetString()).Distinct().Count());
        Assert.Equal(["free", "basic", "premium"], keys.Select(k => k.GetProperty("plan").GetString()));
        var list = await sandbox.RunAsync("keys", "list", "--json");
        using var listed = JsonDocument.Parse(list.StandardOutput);
        Assert.Equal(3, listed.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task KeysCreate_Expires_DurationInTheFutureAcceptedDateInThePastRefused()
    {
        using var sandbox = new ProcessSandbox();

        var future = await sandbox.RunAsync("keys", "create", "--tenant", "acme", "--user", "alice", "--plan", "free", "--expires", "30d", "--json");
        var past = await sandbox.RunAsync("keys", "create", "--tenant", "acme", "--user", "alice", "--plan", "free", "--expires", "2020-01-01");

        Assert.True(future.ExitCode == 0, future.ToString());
        using var document = JsonDocument.Parse(future.StandardOutput);
        var expires = document.RootElement.GetProperty("expires_at").GetDateTimeOffset();
        var now = TimeProvider.System.GetUtcNow();
        Assert.InRange(expires, now.AddDays(29), now.AddDays(31));
        Assert.Equal(2, past.ExitCode);
        Assert.Contains("--expires must be in the future", past.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("tgk_", past.StandardOutput, StringComparison.Ordinal);
        var list = await sandbox.RunAsync("keys", "list");
        Assert.Contains("1 key(s)", list.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("keys", "create", "--tenant", "acme", "--user", "alice", "--plan", "nosuch")]
    [InlineData("frobnicate")]
    [InlineData("keys", "show", "key_00000000000000000000")]
    [InlineData("keys", "revoke", "key_00000000000000000000")]
    [InlineData("keys", "update", "key_00000000000000000000", "--plan", "free")]
    [InlineData("keys", "create", "--tenant", "acme", "--user", "alice")]
    public async Task Cli_UsageError_ExitsTwoWithErrorOnStderr(params string[] args)
    {
        using var sandbox = new ProcessSandbox();

        var result = await sandbox.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: ", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("tgk_", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysCommands_WhileServeRuns_TheVeryNextRequestSeesTheChange()
    {
        using var sandbox = new ProcessSandbox();
        string config = await sandbox.WriteConfigAsync(ZeroLatency);
        await using var gateway = await TollgateProcess.StartServeAsync(sandbox.DataDirectory, config);
        using var http = new HttpClient { BaseAddress = gateway.Address };

        // A key created by another process works at once.
        var (id, key) = await sandbox.CreateKeyAsync("basic", tenant: "live");
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(http, key, "sim-mini"));

        // Revoked by another process: the very next request is refused.
        Assert.Equal(0, (await sandbox.RunAsync("keys", "revoke", id)).ExitCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await ChatAsync(http, key, "sim-mini"));

        // Moved to a plan without sim-large: the very next request for it is refused, sim-mini still works.
        var (otherId, other) = await sandbox.CreateKeyAsync("basic", tenant: "live");
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(http, other, "sim-large"));
        Assert.Equal(0, (await sandbox.RunAsync("keys", "update", otherId, "--plan", "free")).ExitCode);
        Assert.Equal(HttpStatusCode.Forbidden, await ChatAsync(http, other, "sim-large"));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(http, other, "sim-mini"));

        // usage: after a graceful stop every request is in the ledger, and the totals add it up.
        gateway.Terminate();
        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var rows = await sandbox.Ledger.ReadAsync();
        var usage = await sandbox.RunAsync("usage", "--json");
        Assert.True(usage.ExitCode == 0, usage.ToString());
        using var totals = JsonDocument.Parse(usage.StandardOutput);
        Assert.Equal(5, rows.Count);
        Assert.Equal(rows.Count, totals.RootElement.GetProperty("total_requests").GetInt64());
        Assert.Equal(rows.Sum(r => r.CostNanos), totals.RootElement.GetProperty("total_cost_nanousd").GetInt64());
        Assert.True(rows.Where(r => r.Status == 200).All(r => r.CostNanos > 0));
        Assert.Equal(2, rows.Count(r => r.Decision == "refused"));
        Assert.Equal(2, totals.RootElement.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("refused").GetInt64()));
    }

    internal static void ZeroLatency(JsonObject tollgate) =>
        tollgate["Upstreams"]!["simulator"]!["Simulator"] = new JsonObject { ["TimeToFirstToken"] = "00:00:00", ["TimePerToken"] = "00:00:00" };

    internal static async Task<HttpStatusCode> ChatAsync(HttpClient http, string key, string model)
    {
        using var request = ChatCompletionTests.Json(key, $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi [[sim:tokens=5]]"}]}""");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<string> ShowAsync(ProcessSandbox sandbox, string id, string field)
    {
        var show = await sandbox.RunAsync("keys", "show", id, "--json");
        Assert.True(show.ExitCode == 0, show.ToString());
        using var document = JsonDocument.Parse(show.StandardOutput);
        return Str(document, field);
    }

    private static string Str(JsonDocument document, string name) => document.RootElement.GetProperty(name).GetString()!;

    [GeneratedRegex(@"^Created (key_\S+) ", RegexOptions.Multiline)]
    private static partial Regex CreatedLine();

    [GeneratedRegex(@"^Key \(shown once, store it now\): (tgk_\S+)$", RegexOptions.Multiline)]
    private static partial Regex KeyLine();
}
