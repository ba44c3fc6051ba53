using System.Text.Json;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Metrics;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Protocol;
using Tollgate.Protocols;
using Tollgate.Shedding;

namespace Tollgate.Tests.Pipeline;

public sealed class QueueStepTests : IAsyncLifetime
{
    private readonly StepHarness _harness;
    private readonly ConfigSource _config;
    private readonly FairScheduler _scheduler;
    private readonly ShutdownState _shutdown = new();
    private readonly QueueStep _step;

    public QueueStepTests()
    {
        _harness = new StepHarness(o =>
        {
            o.Global.MaxConcurrentRequests = 1;
            o.Gateway.QueueLength = 1;
            o.Gateway.MaxQueueWait = TimeSpan.FromSeconds(5);
        });
        _config = new ConfigSource(_harness.Config);
        _scheduler = new FairScheduler(_harness.Time, new SteadyLoad());
        _step = new QueueStep(_scheduler, _config, _shutdown, new QueueMetrics(new GatewayMetrics(() => _harness.Ledger), _scheduler), _harness.Time);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _step.Dispose();
        _shutdown.Dispose();
        await _harness.DisposeAsync();
    }

    [Fact]
    public async Task RunAsync_SlotFree_HoldsItUntilLeave()
    {
        var context = await AuthorizedAsync();

        Assert.Null(await _step.RunAsync(context));

        Assert.True(context.HoldsSlot);
        Assert.Equal(1, _scheduler.InUse);
        _step.Leave(context);
        _step.Leave(context);
        Assert.False(context.HoldsSlot);
        Assert.Equal(0, _scheduler.InUse);
    }

    [Fact]
    public async Task RunAsync_QueueFull_Is503OverloadedWithRetryAfterOneInTheCallersProtocol()
    {
        var holder = await AuthorizedAsync();
        Assert.Null(await _step.RunAsync(holder));
        var waiter = await AuthorizedAsync();
        var waiting = _step.RunAsync(waiter);
        var shed = await AuthorizedAsync();

        var error = await _step.RunAsync(shed);

        Assert.NotNull(error);
        Assert.Equal((503, ErrorTypes.Unavailable, ErrorCodes.Overloaded, TimeSpan.FromSeconds(1)), (error.Status, error.Type, error.Code, error.RetryAfter));
        Assert.False(shed.HoldsSlot);
        await shed.Protocol.WriteErrorAsync(shed.Http, error);
        Assert.Equal(("1", "1000"), (shed.Http.Response.Headers.RetryAfter.ToString(), shed.Http.Response.Headers["retry-after-ms"].ToString()));
        using var body = JsonDocument.Parse(StepHarness.ResponseText(shed));
        var json = body.RootElement.GetProperty("error");
        Assert.Equal(("service_unavailable_error", "overloaded"), (json.GetProperty("type").GetString(), json.GetProperty("code").GetString()));
        Assert.Equal(0, _harness.Quotas.Outstanding);

        _step.Leave(holder);
        Assert.Null(await waiting);
        Assert.True(waiter.HoldsSlot);
        _step.Leave(waiter);
    }

    [Fact]
    public async Task RunAsync_WaitRunsOut_Is503OverloadedOnTheFakeClock()
    {
        var holder = await AuthorizedAsync();
        Assert.Null(await _step.RunAsync(holder));
        var waiter = await AuthorizedAsync();
        var waiting = _step.RunAsync(waiter).AsTask();

        _harness.Time.Advance(TimeSpan.FromSeconds(5));
        var error = await waiting;

        Assert.Equal((503, ErrorCodes.Overloaded), (error!.Status, error.Code));
        Assert.Contains("in time", error.Message, StringComparison.Ordinal);
        Assert.False(waiter.HoldsSlot);
        Assert.Equal((1, 0), (_scheduler.InUse, _scheduler.Waiting));
        _step.Leave(holder);
    }

    [Fact]
    public async Task RunAsync_CallerLeavesWhileWaiting_Is499ClientAbortedAndLeavesTheQueue()
    {
        var holder = await AuthorizedAsync();
        Assert.Null(await _step.RunAsync(holder));
        var waiter = await AuthorizedAsync();
        var waiting = _step.RunAsync(waiter).AsTask();
        Assert.Equal(1, _scheduler.Waiting);

        _harness.CallerLeaves(waiter);
        var error = await waiting;

        Assert.Equal((499, AuditReasons.ClientAborted), (error!.Status, error.Code));
        Assert.True(waiter.ClientAborted);
        Assert.Equal((1, 0), (_scheduler.InUse, _scheduler.Waiting));
        _step.Leave(holder);
        Assert.Equal(0, _scheduler.InUse);
    }

    [Fact]
    public async Task RunAsync_ConfigurationReloaded_TheNewCapacityApplies()
    {
        var first = await AuthorizedAsync();
        Assert.Null(await _step.RunAsync(first));
        var options = StepHarness.DefaultOptions();
        options.Global.MaxConcurrentRequests = 2;
        Assert.True(GatewayConfig.TryCreate(options, out var reloaded, out _));
        _config.Current = reloaded!;

        var second = await AuthorizedAsync();
        Assert.Null(await _step.RunAsync(second));

        Assert.Equal((2, 2), (_scheduler.InUse, _scheduler.Settings.Capacity));
        _step.Leave(first);
        _step.Leave(second);
    }

    [Fact]
    public async Task Refresh_ReloadWhileRequestsWait_TheTimerHandsThemTheNewSlots()
    {
        var holder = await AuthorizedAsync();
        Assert.Null(await _step.RunAsync(holder));
        var waiter = await AuthorizedAsync();
        var waiting = _step.RunAsync(waiter).AsTask();
        var options = StepHarness.DefaultOptions();
        options.Global.MaxConcurrentRequests = 2;
        Assert.True(GatewayConfig.TryCreate(options, out var reloaded, out _));
        _config.Current = reloaded!;
        Assert.False(waiting.IsCompleted);

        _harness.Time.Advance(QueueStep.RefreshInterval);

        Assert.Null(await waiting);
        Assert.True(waiter.HoldsSlot);
        _step.Leave(holder);
        _step.Leave(waiter);
    }

    private async Task<RequestContext> AuthorizedAsync()
    {
        var (_, secret) = await _harness.CreateKeyAsync();
        var context = _harness.Context(StepHarness.ChatBody(), bearer: secret);
        var error = await _harness.Authenticate.RunAsync(context)
            ?? await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader)
            ?? AuthorizeStep.Run(context);
        Assert.Null(error);
        return context;
    }

    private sealed class ConfigSource(GatewayConfig initial) : IGatewayConfigSource
    {
        public GatewayConfig Current { get; set; } = initial;
    }

    private sealed class SteadyLoad : ILoadSignal
    {
        public LoadSample Current => default;
    }
}
