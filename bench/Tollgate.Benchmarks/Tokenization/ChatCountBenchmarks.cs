using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Tollgate.Benchmarks.Inputs;
using Tollgate.Tokenization;

namespace Tollgate.Benchmarks.Tokenization;

/// <summary>
/// <see cref="PromptTokenCounter.CountChat"/> on a 1 MB chat body: 64 messages of 16 K characters each, cycling
/// through prose, random letters, random Unicode and base64; counted whole, and up to a cap of 16,384 tokens.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class ChatCountBenchmarks
{
    private TokenCounter _counter = null!;
    private JsonDocument _body = null!;

    [GlobalSetup]
    public void Setup()
    {
        _counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        _body = ChatBodies.Mixed(totalChars: 1 << 20, messageChars: 1 << 14);
    }

    [GlobalCleanup]
    public void Cleanup() => _body.Dispose();

    [Benchmark]
    public long CountChat() => PromptTokenCounter.CountChat(_body.RootElement, _counter);

    [Benchmark]
    public long CountChatUpToCap() =>
        PromptTokenCounter.CountChat(_body.RootElement, _counter, stopAfter: CappedCountBenchmarks.Cap);
}
