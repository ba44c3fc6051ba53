using System.Text.Json.Nodes;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests.Agents;

/// <summary>
/// Claude Code (<c>@anthropic-ai/claude-code</c>, installed at a pinned version into <c>tests/agents</c>) runs offline
/// through the gateway on its embedded default, set up as the README says: <c>ANTHROPIC_BASE_URL</c> at the gateway,
/// a Tollgate key as the API key, and no model setting — its default models (<c>claude-sonnet-4-6</c>, and
/// <c>claude-haiku-4-5-20251001</c> for background calls) are aliases of <c>sim-claude</c> in the embedded default.
/// The simulator's script makes it call its Write tool and then answer; its session id
/// (<c>x-claude-code-session-id</c>) is the task its budget is counted under. Every run goes through an
/// <see cref="OutboundTrap"/>: Claude Code reaches nothing but the gateway.
/// </summary>
public sealed class ClaudeCodeTests : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("tollgate-claude-").FullName;
    private readonly OutboundTrap _trap = new();
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        var plan = new JsonObject
        {
            ["Models"] = new JsonArray("*"),
            ["TaskHeaders"] = new JsonArray("x-claude-code-session-id"),
            ["MaxOutputTokens"] = 4096,
            ["OutputCapPolicy"] = "clamp",
        };
        c["Plans"]!["claude"] = plan;
        // A session budget that pays for one of Claude Code's turns (about 21,000 input tokens, its output cap
        // reserved) but not two.
        var tight = (JsonObject)plan.DeepClone();
        tight["TaskBudgetPerDay"] = 0.2m;
        c["Plans"]!["claude-tight"] = tight;
        // An OpenAI-compatible upstream (chat completions only) and a model on it: Claude Code in front of it is translated.
        Translation.TranslationSetup.Configure(c);
    });

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _trap.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task ClaudePrint_ScriptedTask_WritesTheFile_EveryTurnBilledUnderItsSession()
    {
        string key = await _gateway.CreateKeyAsync(plan: "claude");
        string workspace = Workspace("task");

        var (exit, output) = await RunClaudeAsync(key, workspace);

        Assert.True(exit == 0, output);
        Assert.Contains("done", output, StringComparison.Ordinal);
        Assert.Equal("hi", await File.ReadAllTextAsync(Path.Combine(workspace, "hello.txt")));
        Assert.Empty(_trap.Requests);
        var records = await RecordsAsync();
        Assert.Equal(2, records.Count);
        // Claude Code asked for its default model; the alias resolved it to the simulator's model, billed at its prices.
        Assert.All(records, r => Assert.Equal((Decisions.Allowed, "messages", "sim-claude", "simulator"), (r.Decision, r.Endpoint, r.Model, r.Upstream)));
        string session = Assert.Single(records.Select(r => r.Task).Distinct())!;
        Assert.True(Guid.TryParse(session, out _), $"the task is Claude Code's session id: {session}");
        foreach (var record in records)
        {
            var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
            Assert.Equal((bill.PromptTokens, bill.CompletionTokens), (record.Usage.InputTokens, record.Usage.OutputTokens));
        }
    }

    [Fact]
    public async Task ClaudePrint_SessionBudgetSpent_StopsWithARefusalItDoesNotRetry()
    {
        string key = await _gateway.CreateKeyAsync(plan: "claude-tight");
        string workspace = Workspace("budget");

        var (_, output) = await RunClaudeAsync(key, workspace);

        // The first turn wrote the file; the second was refused once, and not retried.
        Assert.True(File.Exists(Path.Combine(workspace, "hello.txt")), output);
        Assert.Empty(_trap.Requests);
        var records = await RecordsAsync();
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal("sim-claude", r.Model));
        var refused = Assert.Single(records, r => r.Decision == Decisions.Refused);
        Assert.Equal(("insufficient_quota", 0L), (refused.Reason, refused.CostNanos));
        Assert.Single(records.Select(r => r.Task).Distinct());
    }

    [Fact]
    public async Task ClaudePrint_ThroughAChatOnlyUpstream_WritesTheFile_EveryTurnTranslatedAndBilledExactly()
    {
        string key = await _gateway.CreateKeyAsync(plan: "claude");
        string workspace = Workspace("chat");

        // A model setting still picks another model, as it would a real one in production.
        var (exit, output) = await RunClaudeAsync(key, workspace, Translation.TranslationSetup.OverChat);

        Assert.True(exit == 0, output);
        Assert.Contains("done", output, StringComparison.Ordinal);
        Assert.Equal("hi", await File.ReadAllTextAsync(Path.Combine(workspace, "hello.txt")));
        Assert.Empty(_trap.Requests);
        var records = await RecordsAsync();
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal((Decisions.Allowed, "messages", Translation.TranslationSetup.OverChat, Translation.TranslationSetup.ChatOnly),
            (r.Decision, r.Endpoint, r.Model, r.Upstream)));
        Assert.Single(records.Select(r => r.Task).Distinct());
        var chat = Translation.TranslationSetup.Engine(_gateway, Translation.TranslationSetup.ChatOnly);
        foreach (var record in records)
        {
            var bill = chat.Billing.Find(record.RequestId)!;
            Assert.Equal("chat/completions", bill.Endpoint);
            Assert.Equal(new TokenUsage(bill.PromptTokens, bill.CachedTokens, bill.CompletionTokens, 0), record.Usage);
            Assert.Equal(UsageSource.Reported, record.UsageSource);
        }
    }

    private string Workspace(string name) => Directory.CreateDirectory(Path.Combine(_work, name)).FullName;

    // Every request has ended (the agent has exited) and its record is written.
    private async Task<List<AuditRecord>> RecordsAsync()
    {
        await Fuzz.GatewayHealth.DrainAsync(_gateway);
        return [.. await _gateway.AuditRecordsAsync()];
    }

    // No model setting unless one is given: Claude Code then asks for its own default models.
    private Task<(int Exit, string Output)> RunClaudeAsync(string key, string workspace, string? model = null)
    {
        string home = Directory.CreateDirectory(Path.Combine(_work, "claude-home-" + Path.GetFileName(workspace))).FullName;
        string file = Path.Combine(workspace, "hello.txt");
        string prompt = $$$"""Create the file. [[sim:call=Write {"file_path":"{{{file}}}","content":"hi"}]] [[sim:say=done]]""";
        var environment = new Dictionary<string, string>(_trap.Environment(_gateway.Address))
        {
            ["HOME"] = home,
            ["ANTHROPIC_BASE_URL"] = _gateway.Address.ToString().TrimEnd('/'),
            ["ANTHROPIC_API_KEY"] = key,
            ["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] = "4096",
            ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
            ["DISABLE_AUTOUPDATER"] = "1",
        };
        if (model is not null)
        {
            environment["ANTHROPIC_MODEL"] = environment["ANTHROPIC_DEFAULT_HAIKU_MODEL"] = model;
        }

        return AgentProcess.RunAsync("claude", ["-p", prompt, "--permission-mode", "acceptEdits"], workspace, environment);
    }
}
