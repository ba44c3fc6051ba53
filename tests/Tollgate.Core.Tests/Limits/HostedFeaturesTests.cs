using System.Text;
using Tollgate.Configuration;
using Tollgate.Core.Tests.Configuration;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Protocol;

namespace Tollgate.Core.Tests.Limits;

/// <summary>
/// The decision on what the Responses API asks for beyond what the gateway sees (a stored conversation or prompt,
/// hosted tools with per-call fees), and its worst case: hidden input up to the context window, every tool call at
/// the highest fee.
/// </summary>
public sealed class HostedFeaturesTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(""","conversation":"conv_1" """, "conversation", "Plans:basic:AllowConversations")]
    [InlineData(""","prompt":{"id":"pmpt_1"}""", "prompt", "Plans:basic:AllowStoredPrompts")]
    [InlineData(""","tools":[{"type":"function","name":"f"},{"type":"file_search"}]""", "tools[1].type", "Plans:basic:HostedTools")]
    public void Check_PlanDoesNotAllow_RefusesNamingTheFieldAndTheSetting(string fields, string param, string setting)
    {
        var (model, plan) = Setup();
        using var request = Read(fields);

        var refusal = HostedFeatures.Check(request, model, plan, "basic");

        Assert.Equal((400, ErrorCodes.ParamNotAllowed, param), (refusal!.Status, refusal.Code, refusal.Param));
        Assert.Contains(setting, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PlanAllowsAToolTheModelDoesNotPrice_RefusesNamingThePriceToSet()
    {
        var (model, plan) = Setup(p => p.HostedTools = ["web_search", "code_interpreter"]);
        using var request = Read(""","tools":[{"type":"web_search"},{"type":"code_interpreter"}]""");

        var refusal = HostedFeatures.Check(request, model, plan, "basic");

        Assert.Equal((ErrorCodes.ParamNotAllowed, "tools[1].type"), (refusal!.Code, refusal.Param));
        Assert.Contains("Models:sim-mini:Prices:ToolCalls:code_interpreter", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_PlanAllowsAndModelPrices_Allowed()
    {
        var (model, plan) = Setup(p =>
        {
            p.HostedTools = ["web_search"];
            p.AllowConversations = true;
            p.AllowStoredPrompts = true;
        });
        using var request = Read(""","conversation":{"id":"conv_1"},"prompt":{"id":"p"},"max_tool_calls":10,"tools":[{"type":"web_search"}]""");

        Assert.Null(HostedFeatures.Check(request, model, plan, "basic"));
    }

    [Fact]
    public void Check_MaxToolCallsAboveThePlan_Refused()
    {
        var (model, plan) = Setup(p => p.HostedTools = ["web_search"]);
        using var request = Read(""","max_tool_calls":11,"tools":[{"type":"web_search"}]""");

        var refusal = HostedFeatures.Check(request, model, plan, "basic");

        Assert.Equal((ErrorCodes.ParamNotAllowed, "max_tool_calls"), (refusal!.Code, refusal.Param));
    }

    [Fact]
    public void Check_MaxToolCallsWithoutHostedTools_Ignored()
    {
        var (model, plan) = Setup();
        using var request = Read(""","max_tool_calls":500""");

        Assert.Null(HostedFeatures.Check(request, model, plan, "basic"));
    }

    [Fact]
    public void Reserve_HostedTools_EveryCallAtTheDearestFee_CapSentWhenTheRequestSetNone()
    {
        var (model, plan) = Setup(p => p.HostedTools = ["web_search", "file_search"]);
        using var request = Read(""","tools":[{"type":"web_search"},{"type":"file_search"}]""");
        using var capped = Read(""","max_tool_calls":3,"tools":[{"type":"file_search"}]""");

        var reserved = HostedFeatures.Reserve(request, model, plan);
        var reservedCapped = HostedFeatures.Reserve(capped, model, plan);

        Assert.Equal(new ToolCallReservation(10, 10_000, SendCap: true), reserved);
        Assert.Equal(100_000_000, reserved.FeeNanos);
        Assert.Equal(new ToolCallReservation(3, 2_500, SendCap: false), reservedCapped);
        Assert.Equal(7_500_000, reservedCapped.FeeNanos);
    }

    [Fact]
    public void Reserve_StoredPrompt_ItsOwnToolsAtTheModelsHighestFee()
    {
        var (model, plan) = Setup(p => p.AllowStoredPrompts = true);
        using var request = Read(""","prompt":{"id":"p"}""");
        using var plain = Read("");

        Assert.Equal(new ToolCallReservation(10, 25_000, SendCap: true), HostedFeatures.Reserve(request, model, plan));
        Assert.Equal(default, HostedFeatures.Reserve(plain, model, plan));
    }

    [Fact]
    public async Task DecideAsync_Conversation_InputReservedUpToTheContextWindowWithoutClampingTheCap()
    {
        var options = Options(p =>
        {
            p.AllowConversations = true;
            p.ClampOutputToRemaining = true;
            p.TokensPerMinute = 1_000_000;
        });
        var (policy, config) = Policy(options);
        var model = Model(config);
        using var request = Read(""","conversation":"conv_1","max_output_tokens":1000""");
        using var plain = Read(""","max_output_tokens":1000""");

        var outcome = await policy.DecideAsync(new AdmissionRequest(Caller, request, model, config, null, null), s_now, default);
        var plainOutcome = await policy.DecideAsync(new AdmissionRequest(Caller, plain, model, config, null, null), s_now, default);

        var admission = outcome.Admission!;
        Assert.Equal((128_000 - 1000L, 1000L), (admission.InputTokens, admission.OutputCap));
        Assert.True(plainOutcome.Admission!.InputTokens < 50);
        // 127,000 input at $0.15/M + 1,000 output at $0.60/M.
        Assert.Equal(19_050_000 + 600_000, admission.WorstCostNanos);
    }

    [Fact]
    public async Task DecideAsync_ConversationOverARemainingTokenLimit_RefusedRatherThanClamped()
    {
        var (policy, config) = Policy(Options(p =>
        {
            p.AllowConversations = true;
            p.ClampOutputToRemaining = true;
            p.TokensPerMinute = 127_500;
        }));
        using var request = Read(""","conversation":"conv_1","max_output_tokens":1000""");

        var outcome = await policy.DecideAsync(new AdmissionRequest(Caller, request, Model(config), config, null, null), s_now, default);

        // A lower cap would leave more of the context window to the unseen input: no cap fits the worst case.
        Assert.Null(outcome.Admission);
        Assert.Equal(ErrorCodes.RateLimitExceeded, outcome.Refusal!.Code);
    }

    [Fact]
    public async Task DecideAsync_HostedTools_WorstCostAndSpendChecksIncludeTheFees()
    {
        var options = Options(p =>
        {
            p.HostedTools = ["web_search"];
            p.MaxToolCalls = 4;
            p.BudgetPerDay = 0.05m;
        });
        var (policy, config) = Policy(options);
        var model = Model(config);
        using var request = Read(""","max_output_tokens":100,"tools":[{"type":"web_search"}]""");

        var first = await policy.DecideAsync(new AdmissionRequest(Caller, request, model, config, null, null), s_now, default);
        var second = await policy.DecideAsync(new AdmissionRequest(Caller, request, model, config, null, null), s_now, default);

        var admission = first.Admission!;
        long tokens = new Tollgate.Pricing.ModelPrice(150_000, 75_000, 600_000).CostNanos(new Tollgate.Pricing.TokenUsage(admission.InputTokens, 0, 100, 0));
        Assert.Equal(new ToolCallReservation(4, 10_000, SendCap: true), admission.ToolCalls);
        Assert.Equal(tokens + 40_000_000, admission.WorstCostNanos);
        // $0.05 a day holds one request's four searches at a cent each, not two.
        Assert.Null(second.Admission);
        Assert.Equal(ErrorCodes.InsufficientQuota, second.Refusal!.Code);
    }

    [Fact]
    public async Task DecideAsync_PlanRefusesHostedTool_RefusedBeforeAnythingIsReserved()
    {
        var store = new InMemoryQuotaStore();
        var (policy, config) = Policy(Options(_ => { }), store);
        using var request = Read(""","tools":[{"type":"web_search"}]""");

        var outcome = await policy.DecideAsync(new AdmissionRequest(Caller, request, Model(config), config, null, null), s_now, default);

        Assert.Equal("tools[0].type", outcome.Refusal!.Param);
        Assert.Equal(0, store.Outstanding);
    }

    private static CallerIdentity Caller { get; } = new("key_1", "acme", "alice", "basic");

    private static TollgateOptions Options(Action<PlanOptions> plan)
    {
        var options = TestOptions.Valid();
        options.Models["sim-mini"].Prices.ToolCalls = new(StringComparer.Ordinal) { ["web_search"] = 0.01m, ["web_search_preview"] = 0.025m, ["file_search"] = 0.0025m };
        plan(options.Plans["basic"]);
        return options;
    }

    private static (ModelDefinition Model, PlanOptions Plan) Setup(Action<PlanOptions>? plan = null)
    {
        var options = Options(plan ?? (_ => { }));
        Assert.True(GatewayConfig.TryCreate(options, out var config, out var errors), string.Join("; ", errors));
        return (Model(config!), options.Plans["basic"]);
    }

    private static (AdmissionPolicy Policy, GatewayConfig Config) Policy(TollgateOptions options, InMemoryQuotaStore? store = null)
    {
        Assert.True(GatewayConfig.TryCreate(options, out var config, out var errors), string.Join("; ", errors));
        return (new AdmissionPolicy(store ?? new InMemoryQuotaStore(), new TaskRegistry(), new BudgetWarnings()), config!);
    }

    private static ModelDefinition Model(GatewayConfig config)
    {
        Assert.True(config.TryGetModel("sim-mini", out var model));
        return model;
    }

    private static ModelRequest Read(string fields)
    {
        string body = "{\"model\":\"sim-mini\",\"input\":\"hello\"" + fields + "}";
        Assert.True(ResponsesRequestReader.Instance.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        return request!;
    }
}
