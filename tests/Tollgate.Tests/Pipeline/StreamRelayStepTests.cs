using System.Text;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.Hosting;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Tests.Pipeline;

public sealed class StreamRelayStepTests : IAsyncLifetime
{
    private const string Done = "data: [DONE]\n\n";
    private static readonly string[] _pieces = ["Tides", " follow", " the", " moon."];

    private readonly StepHarness _harness = new();
    private readonly ShutdownState _shutdown = new();
    private readonly StreamRelayStep _step;

    public StreamRelayStepTests() => _step = new StreamRelayStep(_shutdown, _harness.Time);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _harness.DisposeAsync();
        _shutdown.Dispose();
    }

    [Fact]
    public async Task RunAsync_CompleteStreamWithUsage_RelayedWithTheCostAndEndedByDone()
    {
        var context = await AdmittedAsync(includeUsage: true);
        var held = context.Reservation!;
        long input = held.Admission.InputTokens;
        string usage = UsageChunk(input, 4);

        var error = await RunAsync(context, Chunks(_pieces) + usage + Done);

        Assert.Null(error);
        Assert.Equal((new TokenUsage(input, 0, 4, 0), UsageSource.Reported), (held.Usage, held.Source));
        string relayed = StepHarness.ResponseText(context);
        string withCost = usage.Replace("}}\n\n", ",\"cost_nanousd\":" + held.CostNanos + "}}\n\n", StringComparison.Ordinal);
        Assert.Equal(Chunks(_pieces) + withCost + Done, relayed);
        Assert.Equal(200, context.Http.Response.StatusCode);
        Assert.StartsWith("text/event-stream", context.Http.Response.ContentType, StringComparison.Ordinal);
        Assert.Equal(AuditReasons.Ok, context.Reason);
    }

    [Fact]
    public async Task RunAsync_UsageTheCallerDidNotAskFor_BilledButNotRelayed()
    {
        var context = await AdmittedAsync(includeUsage: false);
        long input = context.Reservation!.Admission.InputTokens;

        await RunAsync(context, Chunks(_pieces) + UsageChunk(input, 4) + Done);

        Assert.Equal(UsageSource.Reported, context.Reservation.Source);
        Assert.Equal(Chunks(_pieces) + Done, StepHarness.ResponseText(context));
    }

    [Fact]
    public async Task RunAsync_NoUsageAndTheCallerAskedForIt_EstimatedUsageEventBeforeDone()
    {
        var context = await AdmittedAsync(includeUsage: true);
        var held = context.Reservation!;

        var error = await RunAsync(context, Chunks(_pieces) + Done);

        Assert.Null(error);
        Assert.Equal(UsageSource.Estimated, held.Source);
        Assert.InRange(held.Usage.OutputTokens, 3, 8);
        var events = Events(StepHarness.ResponseText(context));
        Assert.Equal("[DONE]", events[^1]);
        using var estimated = JsonDocument.Parse(events[^2]);
        var usage = estimated.RootElement.GetProperty("usage");
        Assert.True(usage.GetProperty("estimated").GetBoolean());
        Assert.Equal((held.Usage.InputTokens, held.Usage.OutputTokens, held.CostNanos),
            (usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64(), usage.GetProperty("cost_nanousd").GetInt64()));
        Assert.Equal(_pieces.Length + 2, events.Count);
    }

    [Fact]
    public async Task RunAsync_NoUsageAndTheCallerDidNotAskForIt_NoUsageEvent()
    {
        var context = await AdmittedAsync(includeUsage: false);

        await RunAsync(context, Chunks(_pieces) + Done);

        Assert.Equal(UsageSource.Estimated, context.Reservation!.Source);
        Assert.Equal(Chunks(_pieces) + Done, StepHarness.ResponseText(context));
    }

    [Fact]
    public async Task RunAsync_StreamCut_EndsWithTheErrorEventAndIsBilledByTheCutRule()
    {
        var context = await AdmittedAsync(includeUsage: true);
        var held = context.Reservation!;
        await using var call = _harness.Call(new CutStream(Encoding.UTF8.GetBytes(Chunks(_pieces[..2]))), "text/event-stream");

        var error = await _step.RunAsync(context, call);

        Assert.Null(error);
        Assert.Equal(("stream_cut_without_usage:estimate", UsageSource.Estimated), (held.Rule, held.Source));
        Assert.InRange(held.Usage.OutputTokens, 1, 4);
        Assert.Equal(ErrorCodes.UpstreamError, context.Reason);
        var events = Events(StepHarness.ResponseText(context));
        Assert.Equal(3, events.Count);
        using var last = JsonDocument.Parse(events[^1]);
        Assert.Equal(ErrorCodes.UpstreamError, last.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain(Done, StepHarness.ResponseText(context), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_StreamEndedWithoutDoneOrUsage_CutByTheSameRule()
    {
        await using var harness = new StepHarness(o => o.Upstreams["scripted"].UnknownOutcomes.StreamCutWithoutUsage = "reservation");
        var context = await harness.AdmittedAsync(StepHarness.ChatBody("chat-mini", ",\"max_tokens\":50,\"stream\":true"));
        await using var call = harness.Call(Chunks(_pieces), "text/event-stream");

        await _step.RunAsync(context, call);

        var held = context.Reservation!;
        Assert.Equal(("stream_cut_without_usage:reservation", UsageSource.Reserved), (held.Rule, held.Source));
        Assert.Equal(50, held.Usage.OutputTokens);
        Assert.EndsWith("\"code\":\"upstream_error\"}}\n\n", StepHarness.ResponseText(context), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UsageButNoDone_EndedProperly()
    {
        var context = await AdmittedAsync(includeUsage: true);
        long input = context.Reservation!.Admission.InputTokens;

        await RunAsync(context, Chunks(_pieces) + UsageChunk(input, 4));

        Assert.Equal(UsageSource.Reported, context.Reservation.Source);
        Assert.EndsWith(Done, StepHarness.ResponseText(context), StringComparison.Ordinal);
        Assert.Equal(AuditReasons.Ok, context.Reason);
    }

    [Fact]
    public async Task RunAsync_OutputPastTheReservation_CutWithOutputLimitExceeded()
    {
        var context = await AdmittedAsync(includeUsage: true, maxTokens: 5);
        var held = context.Reservation!;
        string[] endless = [.. Enumerable.Repeat(" tide", 200)];

        var error = await RunAsync(context, Chunks(endless) + Done);

        Assert.Null(error);
        Assert.Equal(AuditReasons.OutputLimitExceeded, context.Reason);
        Assert.True(held.Overshoot);
        Assert.Equal((UsageSource.Estimated, 5L), (held.Source, held.Usage.OutputTokens));
        var events = Events(StepHarness.ResponseText(context));
        Assert.InRange(events.Count, 6, 30);
        using var last = JsonDocument.Parse(events[^1]);
        Assert.Equal(AuditReasons.OutputLimitExceeded, last.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain("[DONE]", events);
    }

    [Fact]
    public async Task RunAsync_UpstreamRunningCountPastTheReservation_CutAtOnce()
    {
        var context = await AdmittedAsync(includeUsage: true, maxTokens: 5);
        long input = context.Reservation!.Admission.InputTokens;
        string chunks = string.Concat(Enumerable.Range(1, 10).Select(i =>
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tide\"}}],\"usage\":{\"prompt_tokens\":" + input + ",\"completion_tokens\":" + i + "}}\n\n"));

        await RunAsync(context, chunks + Done);

        Assert.Equal(AuditReasons.OutputLimitExceeded, context.Reason);
        Assert.Equal(6, context.Reservation.Usage.OutputTokens);
        Assert.Equal(UsageSource.Reported, context.Reservation.Source);
        Assert.Equal(5 + 1, Events(StepHarness.ResponseText(context)).Count);
    }

    [Fact]
    public async Task RunAsync_CallerGone_KeepsReadingToBillButWritesNothing()
    {
        var context = await AdmittedAsync(includeUsage: true);
        context.ClientAborted = true;
        long input = context.Reservation!.Admission.InputTokens;

        await RunAsync(context, Chunks(_pieces) + UsageChunk(input, 4) + Done);

        Assert.Equal((UsageSource.Reported, 4L), (context.Reservation.Source, context.Reservation.Usage.OutputTokens));
        Assert.Equal(AuditReasons.ClientAborted, context.Reason);
        Assert.Equal(0, context.Http.Response.Body.Length);
    }

    [Fact]
    public async Task RunAsync_EventsThatArriveTogether_LeaveInOneWrite()
    {
        var context = await AdmittedAsync(includeUsage: false);
        var sink = new RecordingBody();
        context.Http.Response.Body = sink;

        await RunAsync(context, Chunks(_pieces) + Done);

        Assert.Equal(Chunks(_pieces) + Done, StepHarness.ResponseText(context));
        // Every content event was here at once: one write for all of them, one for the end.
        Assert.Equal([Chunks(_pieces), Done], sink.Writes);
    }

    [Fact]
    public async Task RunAsync_EventsThatArriveOneByOne_EachReachesTheCallerBeforeTheNextIsRead()
    {
        var context = await AdmittedAsync(includeUsage: false);
        var sink = new RecordingBody();
        context.Http.Response.Body = sink;
        string[] events = [.. _pieces.Select(p => Chunks([p])), Done];
        var upstream = new PacedUpstream(events, sink);

        await using (var call = _harness.Call(upstream, "text/event-stream"))
        {
            Assert.Null(await _step.RunAsync(context, call));
        }

        Assert.Equal(string.Concat(events), StepHarness.ResponseText(context));
        // Before each event was handed over, the caller had every event before it (the relay stops reading at [DONE]).
        Assert.Equal(events.Length - 1, upstream.Checks.Count);
        Assert.All(upstream.Checks, check => Assert.True(check.Received.EndsWith(check.Expected, StringComparison.Ordinal), $"not yet sent: {check.Expected}"));
    }

    private Task<RequestContext> AdmittedAsync(bool includeUsage, int maxTokens = 50) =>
        _harness.AdmittedAsync(StepHarness.ChatBody("chat-mini", $",\"max_tokens\":{maxTokens},\"stream\":true"
            + (includeUsage ? ",\"stream_options\":{\"include_usage\":true}" : "")));

    private async Task<GatewayError?> RunAsync(RequestContext context, string upstream)
    {
        await using var call = _harness.Call(upstream, "text/event-stream");
        return await _step.RunAsync(context, call);
    }

    private static string Chunks(IEnumerable<string> pieces) => string.Concat(pieces.Select(piece =>
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":" + JsonSerializer.Serialize(piece) + "}}]}\n\n"));

    private static string UsageChunk(long input, long output) =>
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + input + ",\"completion_tokens\":" + output + "}}\n\n";

    /// <summary>The data of each event the caller received.</summary>
    private static List<string> Events(string stream)
    {
        Assert.EndsWith("\n\n", stream, StringComparison.Ordinal);
        string[] events = stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        return [.. events.Select(e => e[6..])];
    }

    /// <summary>A response body that keeps each write apart (every write of a derived MemoryStream ends here).</summary>
    private sealed class RecordingBody : MemoryStream
    {
        public List<string> Writes { get; } = [];

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes.Add(Encoding.UTF8.GetString(buffer, offset, count));
            base.Write(buffer, offset, count);
        }
    }

    /// <summary>
    /// An upstream body that hands over one event per read and, before each one after the first, notes what the
    /// caller has received so far and which event it should end with.
    /// </summary>
    private sealed class PacedUpstream(string[] events, MemoryStream caller) : ReadOnlyTestStream
    {
        private int _next;

        public List<(string Received, string Expected)> Checks { get; } = [];

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            if (_next > 0 && _next <= events.Length)
            {
                Checks.Add((Encoding.UTF8.GetString(caller.ToArray()), events[_next - 1]));
            }

            if (_next >= events.Length)
            {
                _next++;
                return 0;
            }

            byte[] bytes = Encoding.UTF8.GetBytes(events[_next++]);
            bytes.CopyTo(buffer);
            return bytes.Length;
        }

    }
}
