using BenchmarkDotNet.Attributes;
using System.Buffers;
using Tollgate.Configuration;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Benchmarks.Pipeline;

/// <summary>
/// The policy core's share of one chat request, without HTTP: parse the body, admit it on an
/// <see cref="InMemoryQuotaStore"/> with limits at every scope (settled at once, so counters never fill), rewrite it
/// for the upstream into a reused buffer, scan the upstream's answer and add the cost to its usage. One benchmark per
/// piece and one for the sequence; allocations are per request.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class CorePathBenchmarks
{
    private static readonly ActualUsage s_actual = new(212, 58, 0);

    private readonly ArrayBufferWriter<byte> _upstreamBody = new(4096);
    private GatewayConfig _config = null!;
    private ModelDefinition _model = null!;
    private AdmissionPolicy _policy = null!;
    private InMemoryQuotaStore _quotas = null!;
    private CallerIdentity _caller = null!;
    private ModelRequest _parsed = null!;
    private Admission _admission = null!;

    [GlobalSetup]
    public void Setup()
    {
        _config = PipelineInputs.Config();
        AdmissionPolicy.WarmUp(_config);
        if (!_config.TryGetModel(PipelineInputs.Model, out _model))
        {
            throw new InvalidOperationException("The benchmark model is missing.");
        }

        _quotas = new InMemoryQuotaStore();
        _policy = new AdmissionPolicy(_quotas, new TaskRegistry(), new BudgetWarnings());
        _caller = new CallerIdentity("key_bench", "acme", "alice", PipelineInputs.Plan);
        _parsed = Parse();
        _admission = AdmitAndSettleAsync(_parsed).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _parsed.Dispose();

    /// <summary><see cref="OpenAIRequestReader.TryRead"/> of the ~1 KB chat body.</summary>
    [Benchmark]
    public int ReadRequest()
    {
        using var request = Parse();
        return request.Size;
    }

    /// <summary><see cref="AdmissionPolicy.DecideAsync"/> (which counts the prompt), then settling the reservation.</summary>
    [Benchmark]
    public async Task<long> Admit() => (await AdmitAndSettleAsync(_parsed)).InputTokens;

    /// <summary><see cref="ModelRequestRewriter.Write(ModelRequest, string, string?, long, System.Buffers.IBufferWriter{byte})"/> into a reused buffer.</summary>
    [Benchmark]
    public int RewriteRequest()
    {
        _upstreamBody.ResetWrittenCount();
        ModelRequestRewriter.Write(_parsed, _model.UpstreamModel, _admission.CapField, _admission.OutputCap, _upstreamBody);
        return _upstreamBody.WrittenCount;
    }

    /// <summary><see cref="ResponseScanner.Scan"/> of the chat completion, then <see cref="CostInjector.Inject"/>.</summary>
    [Benchmark]
    public int ScanResponse() => ScanAndInject().Length;

    /// <summary>All of the above in order, as one request.</summary>
    [Benchmark]
    public async Task<int> WholeSequence()
    {
        using var request = Parse();
        var admission = await AdmitAndSettleAsync(request);
        _upstreamBody.ResetWrittenCount();
        ModelRequestRewriter.Write(request, _model.UpstreamModel, admission.CapField, admission.OutputCap, _upstreamBody);
        return ScanAndInject().Length + _upstreamBody.WrittenCount;
    }

    private static ModelRequest Parse() =>
        OpenAIRequestReader.ChatCompletions.TryRead(PipelineInputs.ChatRequest, out var request, out var refusal)
            ? request!
            : throw new InvalidOperationException(refusal?.Message);

    private async ValueTask<Admission> AdmitAndSettleAsync(ModelRequest request)
    {
        var now = TimeProvider.System.GetUtcNow();
        var outcome = await _policy.DecideAsync(new AdmissionRequest(_caller, request, _model, _config, null, "127.0.0.1"), now, CancellationToken.None);
        var admission = outcome.Admission ?? throw new InvalidOperationException(outcome.Refusal?.Message);
        await _quotas.SettleAsync(admission.Reservation, s_actual, now, CancellationToken.None);
        return admission;
    }

    private byte[] ScanAndInject()
    {
        var scan = ResponseScanner.Scan(PipelineInputs.ChatResponse, null);
        long cost = _model.Price.CostNanos(scan.Usage);
        return CostInjector.Inject(PipelineInputs.ChatResponse, scan.UsageEnd, scan.UsageEmpty, cost);
    }
}
