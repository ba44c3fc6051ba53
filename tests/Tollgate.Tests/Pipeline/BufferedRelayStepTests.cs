using System.Text;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocols;

namespace Tollgate.Tests.Pipeline;

public sealed class BufferedRelayStepTests : IAsyncLifetime
{
    private const string Answer = "Tides follow the moon.";

    private readonly StepHarness _harness = new();
    private RequestContext _context = null!;

    private HeldReservation Held => _context.Reservation!;

    public async Task InitializeAsync() => _context = await _harness.AdmittedAsync(StepHarness.ChatBody("chat-mini", ",\"max_tokens\":50"));

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Fact]
    public async Task RunAsync_UsageReported_BilledAndTheCostInjected()
    {
        long input = Held.Admission.InputTokens;
        string body = Completion(Answer, $"{{\"prompt_tokens\":{input},\"completion_tokens\":6,\"total_tokens\":{input + 6}}}");
        _context.UpstreamRequestId = "up_1";

        var error = await RunAsync(body);

        Assert.Null(error);
        Assert.Equal((new TokenUsage(input, 0, 6, 0), UsageSource.Reported), (Held.Usage, Held.Source));
        long cost = input * 1_000 + 6 * 2_000;
        Assert.Equal(cost, Held.CostNanos);
        var response = _context.Http.Response;
        Assert.Equal((200, "application/json"), (response.StatusCode, response.ContentType));
        Assert.Equal(Money.FormatDollars(cost), response.Headers[BufferedRelayStep.CostHeader].ToString());
        Assert.Equal("up_1", response.Headers[BufferedRelayStep.UpstreamRequestIdHeader].ToString());
        string relayed = StepHarness.ResponseText(_context);
        Assert.Equal(Encoding.UTF8.GetByteCount(relayed), response.ContentLength);
        Assert.Equal(body.Replace("}}", ",\"cost_nanousd\":" + cost + "}}", StringComparison.Ordinal), relayed);
        Assert.Equal(AuditReasons.Ok, _context.Reason);
    }

    [Fact]
    public async Task RunAsync_Answer_SettledBeforeTheFirstByteIsWritten()
    {
        long input = Held.Admission.InputTokens;
        bool? settledAtWrite = null;
        _context.Http.Response.Body = new WriteProbe(() => settledAtWrite ??= Held.Ended);

        var error = await RunAsync(Completion(Answer, $"{{\"prompt_tokens\":{input},\"completion_tokens\":6,\"total_tokens\":{input + 6}}}"));

        Assert.Null(error);
        Assert.True(settledAtWrite);
        Assert.Equal(0, _harness.Quotas.Outstanding);
    }

    [Fact]
    public async Task RunAsync_NoUsage_EstimatedAndRelayedUnchanged()
    {
        string body = Completion(Answer, null);

        var error = await RunAsync(body);

        Assert.Null(error);
        Assert.Equal(UsageSource.Estimated, Held.Source);
        Assert.Equal(Held.Admission.InputTokens, Held.Usage.InputTokens);
        Assert.InRange(Held.Usage.OutputTokens, 3, 10);
        Assert.Equal(body, StepHarness.ResponseText(_context));
        Assert.Equal(Money.FormatDollars(Held.CostNanos), _context.Http.Response.Headers[BufferedRelayStep.CostHeader].ToString());
    }

    [Fact]
    public async Task RunAsync_ZeroOutputForTextThatArrived_EstimatedNotBilledAsZero()
    {
        var error = await RunAsync(Completion(Answer, "{\"prompt_tokens\":9,\"completion_tokens\":0}"));

        Assert.Null(error);
        Assert.Equal(UsageSource.Estimated, Held.Source);
        Assert.True(Held.Usage.OutputTokens > 0);
    }

    [Fact]
    public async Task RunAsync_NotJson_502BilledByTheInvalidBodyRule()
    {
        var error = await RunAsync("{\"choices\":[{\"message\":{\"content\":\"Tides fol");

        Assert.Equal((502, ErrorCodes.UpstreamError), (error?.Status, error?.Code));
        Assert.Contains("not valid JSON", error!.Message, StringComparison.Ordinal);
        Assert.Equal(("invalid_body:estimate", UsageSource.Estimated), (Held.Rule, Held.Source));
        Assert.True(Held.Usage.OutputTokens > 0);
        Assert.Equal(0, _context.Http.Response.Body.Length);
    }

    [Fact]
    public async Task RunAsync_BodyCutMidway_502BilledByTheInvalidBodyRule()
    {
        await using var call = _harness.Call(new CutStream(Encoding.UTF8.GetBytes(Completion(Answer, null)[..40])), "application/json");

        var error = await BufferedRelayStep.RunAsync(_context, call);

        Assert.Equal(502, error?.Status);
        Assert.Contains("closed the connection", error!.Message, StringComparison.Ordinal);
        Assert.Equal("invalid_body:estimate", Held.Rule);
    }

    [Fact]
    public async Task RunAsync_LargerThanMaxResponseBodyBytes_502()
    {
        await using var harness = new StepHarness(o => o.Gateway.MaxResponseBodyBytes = 1024);
        var context = await harness.AdmittedAsync(StepHarness.ChatBody());
        await using var call = harness.Call(Completion(string.Concat(Enumerable.Repeat("tide ", 300)), null));

        var error = await BufferedRelayStep.RunAsync(context, call);

        Assert.Equal(502, error?.Status);
        Assert.Equal("invalid_body:estimate", context.Reservation!.Rule);
    }

    [Fact]
    public async Task RunAsync_CallerLeft_BilledButNothingWritten()
    {
        _context.ClientAborted = true;

        var error = await RunAsync(Completion(Answer, "{\"prompt_tokens\":9,\"completion_tokens\":6}"));

        Assert.Null(error);
        Assert.Equal(UsageSource.Reported, Held.Source);
        Assert.Equal(AuditReasons.ClientAborted, _context.Reason);
        Assert.Equal(0, _context.Http.Response.Body.Length);
    }

    [Fact]
    public async Task RunAsync_Embeddings_UsageWithoutOutputIsKnown()
    {
        var context = await _harness.AdmittedAsync("{\"model\":\"embed-small\",\"input\":[\"one\",\"two\"]}", ProtocolEndpoint.OpenAIEmbeddings);
        long input = context.Reservation!.Admission.InputTokens;
        await using var call = _harness.Call($"{{\"object\":\"list\",\"data\":[],\"usage\":{{\"prompt_tokens\":{input},\"total_tokens\":{input}}}}}");

        Assert.Null(await BufferedRelayStep.RunAsync(context, call));

        Assert.Equal((new TokenUsage(input, 0, 0, 0), UsageSource.Reported), (context.Reservation.Usage, context.Reservation.Source));
        using var relayed = JsonDocument.Parse(StepHarness.ResponseText(context));
        Assert.Equal(context.Reservation.CostNanos, relayed.RootElement.GetProperty("usage").GetProperty("cost_nanousd").GetInt64());
    }

    private async Task<GatewayError?> RunAsync(string upstreamBody)
    {
        await using var call = _harness.Call(upstreamBody);
        return await BufferedRelayStep.RunAsync(_context, call);
    }

    private static string Completion(string content, string? usage) =>
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"chat-mini-2025\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
        + JsonSerializer.Serialize(content) + "},\"finish_reason\":\"stop\"}]" + (usage is null ? "" : ",\"usage\":" + usage) + "}";

    // A response body that reports each write before taking it.
    private sealed class WriteProbe(Action onWrite) : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count)
        {
            onWrite();
            base.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            onWrite();
            return base.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            onWrite();
            return base.WriteAsync(buffer, offset, count, cancellationToken);
        }
    }
}
