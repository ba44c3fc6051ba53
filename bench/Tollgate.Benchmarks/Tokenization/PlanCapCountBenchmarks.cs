using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Tollgate.Benchmarks.Inputs;
using Tollgate.Tokenization;

namespace Tollgate.Benchmarks.Tokenization;

/// <summary>
/// <see cref="PromptTokenCounter.CountChat"/> on a 1 MB chat body of each shape (64 messages of 16 K characters),
/// stopping after each built-in plan's input cap (<c>MaxInputTokens</c> in tollgate.defaults.json: free 4,000, basic
/// 32,000, premium 128,000; every built-in plan has one, so the model context window is never the bound). The work
/// should follow the cap, not the 1 MB.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class PlanCapCountBenchmarks
{
    private TokenCounter _counter = null!;
    private JsonDocument _body = null!;

    /// <summary>The plan whose cap is the stop point.</summary>
    [Params("free", "basic", "premium")]
    public string Plan { get; set; } = "free";

    /// <summary>The shape of every message in the body.</summary>
    [ParamsAllValues]
    public TextShape Shape { get; set; }

    /// <summary>The plan's <c>MaxInputTokens</c>.</summary>
    public long Cap => Plan switch
    {
        "free" => 4_000,
        "basic" => 32_000,
        "premium" => 128_000,
        _ => throw new ArgumentOutOfRangeException(nameof(Plan), Plan, "Unknown plan."),
    };

    [GlobalSetup]
    public void Setup()
    {
        // The built-in models all count with o200k_base (sim-embed, cl100k_base, takes no chat body).
        _counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        _body = ChatBodies.OfShape(Shape, totalChars: 1 << 20, messageChars: 1 << 14);
    }

    [GlobalCleanup]
    public void Cleanup() => _body.Dispose();

    [Benchmark]
    public long CountChatUpToPlanCap() => PromptTokenCounter.CountChat(_body.RootElement, _counter, stopAfter: Cap);
}
