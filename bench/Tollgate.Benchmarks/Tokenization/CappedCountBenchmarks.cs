using BenchmarkDotNet.Attributes;
using Tollgate.Benchmarks.Inputs;
using Tollgate.Tokenization;

namespace Tollgate.Benchmarks.Tokenization;

/// <summary>
/// <see cref="TokenCounter.CountUpTo(string?, long)"/> on 1 MB of each shape with a cap of 16,384 tokens: refusing
/// an input over a cap costs work in proportion to the cap, not to the input.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class CappedCountBenchmarks
{
    /// <summary>The cap, in tokens.</summary>
    public const long Cap = 16_384;

    private TokenCounter _counter = null!;
    private string _text = null!;

    /// <summary>The encoding under test.</summary>
    [Params(TokenEncoding.O200kBase, TokenEncoding.Cl100kBase)]
    public string Encoding { get; set; } = TokenEncoding.O200kBase;

    /// <summary>The shape of the 1 MB input.</summary>
    [ParamsAllValues]
    public TextShape Shape { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _counter = TokenCounterRegistry.Shared.Get(Encoding);
        _text = SampleText.Create(Shape, 1 << 20);
    }

    [Benchmark]
    public long UpToCap() => _counter.CountUpTo(_text, Cap);
}
