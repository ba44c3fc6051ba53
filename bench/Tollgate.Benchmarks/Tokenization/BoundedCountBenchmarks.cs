using BenchmarkDotNet.Attributes;
using Tollgate.Benchmarks.Inputs;
using Tollgate.Tokenization;

namespace Tollgate.Benchmarks.Tokenization;

/// <summary>
/// <see cref="TokenCounter.CountBounded(string?)"/> on every shape at 1 KB, 64 KB and 1 MB: the work should grow
/// linearly with the size whatever the shape.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class BoundedCountBenchmarks
{
    private TokenCounter _counter = null!;
    private string _text = null!;

    /// <summary>The encoding under test.</summary>
    [Params(TokenEncoding.O200kBase, TokenEncoding.Cl100kBase)]
    public string Encoding { get; set; } = TokenEncoding.O200kBase;

    /// <summary>The input under test.</summary>
    [ParamsSource(nameof(Cases))]
    public TextCase Case { get; set; } = new(TextShape.Prose, 1024);

    /// <summary>Every shape at every size.</summary>
    public static IEnumerable<TextCase> Cases() => TextCase.All();

    [GlobalSetup]
    public void Setup()
    {
        _counter = TokenCounterRegistry.Shared.Get(Encoding);
        _text = SampleText.Create(Case.Shape, Case.Length);
    }

    [Benchmark]
    public long Bounded() => _counter.CountBounded(_text);
}
