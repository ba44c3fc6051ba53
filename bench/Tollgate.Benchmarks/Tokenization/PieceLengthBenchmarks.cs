using BenchmarkDotNet.Attributes;
using Tollgate.Benchmarks.Inputs;
using Tollgate.Tokenization;

namespace Tollgate.Benchmarks.Tokenization;

/// <summary>
/// The sweep behind <see cref="TokenCounter.PieceLength"/>: the bounded count of 64 K characters of the shapes
/// that are one long pre-token, with pieces of 64 to 1024 characters. The merge is quadratic in the piece, so
/// longer pieces cost more per character; shorter pieces mean more cuts, each of which can move the count.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class PieceLengthBenchmarks
{
    private TokenCounter _counter = null!;
    private string _text = null!;

    /// <summary>Characters handed to the tokenizer's merge at once.</summary>
    [Params(64, 128, 256, 512, 1024)]
    public int PieceLength { get; set; } = TokenCounter.PieceLength;

    /// <summary>The shape of the 64 K input.</summary>
    [Params(TextShape.Letters, TextShape.Repeated, TextShape.Unicode)]
    public TextShape Shape { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        _text = SampleText.Create(Shape, 1 << 16);
    }

    [Benchmark]
    public long Bounded() => _counter.CountUpTo(_text, long.MaxValue, PieceLength);
}
