using System.Text.Json.Nodes;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests.Agents;

/// <summary>
/// Codex CLI (<c>@openai/codex</c>, installed at a pinned version into <c>tests/agents</c> by the test command) runs
/// offline through the gateway on its embedded default, as a user would set it up: a custom model provider speaking
/// the Responses API at the gateway's base URL, the key in an environment variable, and no model setting — its default
/// model (<c>gpt-6.2-sol</c>) is an alias of <c>sim-mini</c> in the embedded default. The simulator's script makes it
/// run a command that writes a file and then answer; its session id (<c>session-id</c>) is the task its budget is
/// counted under. Every run goes through an <see cref="OutboundTrap"/>: Codex reaches nothing but the gateway.
/// </summary>
public sealed class CodexCliTests : IAsyncLifetime
{
    private const string Prompt = """Create hello.txt [[sim:call=exec_command {"cmd":"echo hi > hello.txt"}]] [[sim:say=done]]""";
    private readonly string _work = Directory.CreateTempSubdirectory("tollgate-codex-").FullName;
    private readonly OutboundTrap _trap = new();
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        var sessions = new JsonArray("session-id");
        c["Plans"]!["agents"] = new JsonObject { ["Models"] = new JsonArray("*"), ["TaskHeaders"] = sessions.DeepClone() };
        // A session budget that pays for one of Codex's turns (about 8,000 input tokens) but not two.
        c["Plans"]!["agents-tight"] = new JsonObject
        {
            ["Models"] = new JsonArray("*"),
            ["TaskHeaders"] = sessions.DeepClone(),
            ["TaskBudgetPerDay"] = 0.003m,
            ["MaxOutputTokens"] = 1000,
            ["DefaultMaxOutputTokens"] = 1000,
            ["OutputCapPolicy"] = "clamp",
        };
    });

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _trap.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task CodexExec_ScriptedTask_RunsTheCommand_EveryTurnBilledUnderItsSession()
    {
        string key = await _gateway.CreateKeyAsync(plan: "agents");
        string workspace = Workspace("task");

        var (exit, output) = await RunCodexAsync(key, workspace);

        Assert.True(exit == 0, output);
        Assert.Equal("hi\n", await File.ReadAllTextAsync(Path.Combine(workspace, "hello.txt")));
        Assert.Empty(_trap.Requests);
        var records = await RecordsAsync(2);
        // Codex asked for its default model; the alias resolved it to the simulator's model, billed at its prices.
        Assert.All(records, r => Assert.Equal((Decisions.Allowed, "responses", "sim-mini", "simulator"), (r.Decision, r.Endpoint, r.Model, r.Upstream)));
        string session = Assert.Single(records.Select(r => r.Task).Distinct())!;
        Assert.True(Guid.TryParse(session, out _), $"the task is Codex's session id: {session}");
        foreach (var record in records)
        {
            var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
            Assert.Equal(new TokenUsage(bill.PromptTokens, bill.CachedTokens, bill.CompletionTokens, bill.ReasoningTokens), record.Usage);
        }
    }

    [Fact]
    public async Task CodexExec_ChatOnlyUpstream_ScriptedTaskThroughTheTranslation_EveryTurnBilledUnderItsSession()
    {
        // The model's upstream speaks chat completions only (a vLLM or Ollama server): Codex's Responses requests are
        // translated to chat and the answers back to Responses events. Codex is pointed at the model with -m, as at a
        // real one in production: for its own default model it sends its tools as an input item of type
        // additional_tools, which has no chat equivalent (400 param_not_supported).
        await using var gateway = await TestGateway.StartAsync(c =>
        {
            ResponsesTranslationTests.ChatOnly(c);
            c["Plans"]!["agents"] = new JsonObject { ["Models"] = new JsonArray("*"), ["TaskHeaders"] = new JsonArray("session-id") };
        });
        string key = await gateway.CreateKeyAsync(plan: "agents");
        string workspace = Workspace("chat-only");

        var (exit, output) = await RunCodexAsync(gateway, key, workspace, "sim-mini");

        Assert.True(exit == 0, output);
        Assert.Equal("hi\n", await File.ReadAllTextAsync(Path.Combine(workspace, "hello.txt")));
        Assert.Contains("done", output, StringComparison.Ordinal);
        Assert.Empty(_trap.Requests);
        var records = await RecordsAsync(gateway, 2);
        Assert.All(records, r => Assert.Equal((Decisions.Allowed, "responses", "sim-mini"), (r.Decision, r.Endpoint, r.Model)));
        Assert.True(Guid.TryParse(Assert.Single(records.Select(r => r.Task).Distinct()), out _));
        foreach (var record in records)
        {
            var bill = gateway.Simulator.Billing.Find(record.RequestId)!;
            Assert.Equal(("chat/completions", true), (bill.Endpoint, bill.Stream));
            Assert.Equal(new TokenUsage(bill.PromptTokens, bill.CachedTokens, bill.CompletionTokens, bill.ReasoningTokens), record.Usage);
        }
    }

    [Fact]
    public async Task CodexExec_SessionBudgetSpent_StopsWithARefusalItDoesNotRetry_TheNextSessionStartsAfresh()
    {
        string key = await _gateway.CreateKeyAsync(plan: "agents-tight");
        string workspace = Workspace("budget");

        var (exit, output) = await RunCodexAsync(key, workspace);

        Assert.NotEqual(0, exit);
        Assert.Contains("Quota exceeded", output, StringComparison.Ordinal);
        // The first turn ran the command; the second was refused once, and not retried.
        Assert.True(File.Exists(Path.Combine(workspace, "hello.txt")));
        var records = await RecordsAsync(2);
        var refused = Assert.Single(records, r => r.Decision == Decisions.Refused);
        Assert.Single(records, r => r.Decision == Decisions.Allowed);
        Assert.All(records, r => Assert.Equal("sim-mini", r.Model));
        Assert.Equal(("insufficient_quota", 0L), (refused.Reason, refused.CostNanos));
        string session = Assert.Single(records.Select(r => r.Task).Distinct())!;

        // The key's budget is not the session's: a new session of the same key gets its first turn.
        await RunCodexAsync(key, Workspace("budget-next"));
        var next = (await RecordsAsync(4)).Where(r => r.Task != session).ToList();
        Assert.Equal(2, next.Count);
        Assert.Single(next, r => r.Decision == Decisions.Allowed);
        Assert.True(File.Exists(Path.Combine(_work, "budget-next", "hello.txt")));
        Assert.Empty(_trap.Requests);
    }

    private string Workspace(string name) => Directory.CreateDirectory(Path.Combine(_work, name)).FullName;

    // Every request has ended (the agent has exited) and its record is written.
    private Task<List<AuditRecord>> RecordsAsync(int count) => RecordsAsync(_gateway, count);

    private static async Task<List<AuditRecord>> RecordsAsync(TestGateway gateway, int count)
    {
        await Fuzz.GatewayHealth.DrainAsync(gateway);
        var records = (await gateway.AuditRecordsAsync()).OrderBy(r => r.Timestamp).ThenBy(r => r.RequestId, StringComparer.Ordinal).ToList();
        Assert.Equal(count, records.Count);
        return records;
    }

    private Task<(int Exit, string Output)> RunCodexAsync(string key, string workspace) => RunCodexAsync(_gateway, key, workspace);

    // No model setting unless one is given: Codex then asks for its own default model.
    private Task<(int Exit, string Output)> RunCodexAsync(TestGateway gateway, string key, string workspace, string? model = null)
    {
        string home = Directory.CreateDirectory(Path.Combine(_work, "codex-home-" + Path.GetFileName(workspace))).FullName;
        var environment = new Dictionary<string, string>(_trap.Environment(gateway.Address))
        {
            ["CODEX_HOME"] = home,
            ["HOME"] = home,
            ["TOLLGATE_KEY"] = key,
        };
        string[] modelSetting = model is null ? [] : ["-m", model];
        return AgentProcess.RunAsync("codex",
        [
            "exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox",
            "-c", "model_provider=tollgate",
            "-c", $"model_providers.tollgate={{name=\"Tollgate\",base_url=\"{new Uri(gateway.Address, "/v1")}\",env_key=\"TOLLGATE_KEY\",wire_api=\"responses\"}}",
            // Web search is a hosted tool with per-call fees the gateway refuses; a plan that prices it could allow it.
            "-c", "web_search=\"disabled\"",
            // Offline: at start-up Codex syncs its curated plugins (git ls-remote of github.com/openai/plugins, then
            // api.github.com, then chatgpt.com) and exports metrics to ab.chatgpt.com; both are turned off.
            "-c", "features.plugins=false",
            "-c", "analytics.enabled=false",
            .. modelSetting,
            Prompt,
        ], workspace, environment);
    }
}
