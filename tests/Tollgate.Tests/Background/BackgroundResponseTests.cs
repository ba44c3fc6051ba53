using System.Text;
using Tollgate.Audit;
using Tollgate.Background;
using Tollgate.Pipeline;
using Tollgate.Pricing;
using Tollgate.Tests.Pipeline;

namespace Tollgate.Tests.Background;

public sealed class BackgroundResponseTests : IAsyncLifetime
{
    private readonly CountingQuotaStore _quotas = new();
    private readonly StepHarness _harness;
    private readonly List<AuditRecord> _written = [];
    private RequestContext _context = null!;

    public BackgroundResponseTests() => _harness = new StepHarness(quotas: _quotas);

    public async Task InitializeAsync() => _context = await _harness.AdmittedAsync(StepHarness.ChatBody("chat-mini", ",\"max_tokens\":5"));

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    private HeldReservation Held => _context.Reservation!;

    [Fact]
    public void Complete_BeforeTheCreateRecordArrives_WrittenOnceWithTheBillWhenItDoes()
    {
        var response = New();
        Held.BillReported(new TokenUsage(Held.Admission.InputTokens, 0, 3, 0));

        response.Complete(AuditReasons.BackgroundCancelled);
        Assert.Empty(_written);
        response.Deliver(_context.ToRecord());

        var record = Assert.Single(_written);
        Assert.Equal(AuditReasons.BackgroundCancelled, record.Reason);
        Assert.Equal((new TokenUsage(Held.Admission.InputTokens, 0, 3, 0), Held.CostNanos, UsageSource.Reported), (record.Usage, record.CostNanos, record.UsageSource));
        Assert.True(response.Settled.IsCompleted);
    }

    [Fact]
    public void Deliver_ThenComplete_WrittenOnceWithTheBill()
    {
        var response = New();
        response.Deliver(_context.ToRecord());
        Assert.Empty(_written);
        Assert.False(response.Settled.IsCompleted);

        Held.BillEstimate("alpha beta", flagOverrun: true);
        response.Complete(AuditReasons.Ok);

        var record = Assert.Single(_written);
        Assert.Equal((AuditReasons.Ok, UsageSource.Estimated, Held.Admission.Reservation.Id), (record.Reason, record.UsageSource, record.ReservationId));
        Assert.Equal(Held.Usage, record.Usage);
    }

    [Fact]
    public void TryClaim_RacingThreads_ExactlyOneWinsEveryRound()
    {
        const int Threads = 16;
        const int Rounds = 300;
        for (int round = 0; round < Rounds; round++)
        {
            var response = New();
            int winners = 0;
            using var start = new Barrier(Threads);
            var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                if (response.TryClaim())
                {
                    Interlocked.Increment(ref winners);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            Assert.Equal(1, winners);
            Assert.True(response.Claimed);
        }
    }

    [Theory]
    [InlineData("""{"id":"resp_1","status":"queued","usage":null}""", "queued", true, false)]
    [InlineData("""{"output":[{"status":"completed"}],"status":"in_progress"}""", "in_progress", true, false)]
    [InlineData("""{"status":"completed","usage":{"input_tokens":1}}""", "completed", false, true)]
    [InlineData("""{"status":"incomplete"}""", "incomplete", false, true)]
    [InlineData("""{"status":"failed"}""", "failed", false, true)]
    [InlineData("""{"status":"cancelled"}""", "cancelled", false, true)]
    [InlineData("""{"status":5}""", null, false, false)]
    [InlineData("""not json""", null, false, false)]
    public void Status_Read_RunningOrEnded(string body, string? status, bool running, bool ended)
    {
        string? read = BackgroundStatus.Read(Encoding.UTF8.GetBytes(body));

        Assert.Equal((status, running, ended), (read, BackgroundStatus.IsRunning(read), BackgroundStatus.IsEnded(read)));
    }

    private BackgroundResponse New() =>
        new("resp_1", _context.RequestId, Held, DateTimeOffset.MaxValue, (_, record) => _written.Add(record));
}
