using BenchmarkDotNet.Attributes;
using Tollgate.Benchmarks.Inputs;
using Tollgate.Tokenization;

namespace Tollgate.Benchmarks.Tokenization;

/// <summary>
/// <see cref="TokenCounter.Count(ReadOnlySpan{char})"/>: the tokenizer's exact count, whose byte-pair merge is
/// quadratic in the length of one pre-token. Shapes that are a single long pre-token are run at 1 KB and 64 KB
/// only: at 1 MB one call takes tens of minutes (256 × the 64 KB time; see docs/performance.md).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class ExactCountBenchmarks
{
    private TokenCounter _counter = null!;
    private string _text = null!;

    /// <summary>The encoding under test.</summary>
    [Params(TokenEncoding.O200kBase, TokenEncoding.Cl100kBase)]
    public string Encoding { get; set; } = TokenEncoding.O200kBase;

    /// <summary>The input under test.</summary>
    [ParamsSource(nameof(Cases))]
    public TextCase Case { get; set; } = new(TextShape.Prose, 1024);

    /// <summary>Every shape at 1 KB and 64 KB; at 1 MB only the shapes whose pre-tokens are at most 4 K characters.</summary>
    public static IEnumerable<TextCase> Cases() =>
        TextCase.All().Where(c => c.Length < 1 << 20 || c.Shape is not (TextShape.Letters or TextShape.Repeated));

    [GlobalSetup]
    public void Setup()
    {
        _counter = TokenCounterRegistry.Shared.Get(Encoding);
        _text = SampleText.Create(Case.Shape, Case.Length);
    }

    [Benchmark]
    public int Exact() => _counter.Count(_text);
}
