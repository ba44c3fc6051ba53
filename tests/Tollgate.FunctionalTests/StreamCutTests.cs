using System.Net;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;
using Tollgate.Tokenization;

namespace Tollgate.FunctionalTests;

/// <summary>
/// A stream is cut only when its overrun is certain: by the upstream's own running counts when it streams them,
/// otherwise by Tollgate's count passing the reservation by the model's margin. An honest stream that counts high in
/// Tollgate's tokenizer is never cut, and an uncut stream billed by estimate is billed at most its reservation.
/// </summary>
public sealed class StreamCutTests : IAsyncLifetime
{
    private static readonly string[] s_pieces = [.. Enumerable.Range(0, 120).Select(i => (i == 0 ? "" : " ") + "naïveté")];
    private ScriptedUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ScriptedUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(_upstream.Configure);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    // Tollgate's raw count of the whole answer (the approximate encoding counts with cl100k_base).
    private static long OurCount => s_pieces.Sum(p => (long)TokenCounterRegistry.Shared.Get(TokenEncoding.Cl100kBase).Count(p));

    [Fact]
    public async Task Approximate_HonestStreamCountingHighInOurTokenizer_IsNotCutAndBilledAsReported()
    {
        // The upstream's tokenizer counts 1.7 times fewer tokens than Tollgate's and honours max_tokens exactly.
        long cap = OurCount * 10 / 17;
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteStreamAsync(http, s_pieces,
            $$"""{"prompt_tokens":9,"completion_tokens":{{cap}},"total_tokens":{{cap + 9}}}""");
        var (record, body) = await StreamAsync("scripted-approx", cap);

        Assert.Equal("ok", record.Reason);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.Equal(cap, record.Usage.OutputTokens);
        Assert.False(record.Overshoot);
    }

    [Fact]
    public async Task Approximate_HonestStreamWithoutUsage_IsNotCutAndBilledAtMostItsReservation()
    {
        long cap = OurCount * 10 / 17;
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteStreamAsync(http, s_pieces, finalUsageJson: null);
        var (record, body) = await StreamAsync("scripted-approx", cap);

        Assert.Equal("ok", record.Reason);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        Assert.Equal(UsageSource.Estimated, record.UsageSource);
        Assert.Equal(cap, record.Usage.OutputTokens);
        Assert.True(record.Overshoot);
    }

    [Fact]
    public async Task Approximate_StreamFarAboveTheReservation_IsCut()
    {
        long cap = OurCount / 3;
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteStreamAsync(http, s_pieces, finalUsageJson: null);
        var (record, body) = await StreamAsync("scripted-approx", cap);

        Assert.Equal("output_limit_exceeded", record.Reason);
        Assert.Contains("\"output_limit_exceeded\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        Assert.Equal(cap, record.Usage.OutputTokens);
        Assert.True(record.Overshoot);
    }

    [Fact]
    public async Task RunningUpstreamCounts_WithinTheCap_AreTrustedOverOurOwnCount()
    {
        // Tollgate's count (one per word) is twice the cap, but the upstream's running count never passes it.
        long cap = s_pieces.Length / 2;
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteStreamAsync(http, s_pieces,
            $$"""{"prompt_tokens":9,"completion_tokens":{{cap}},"total_tokens":{{cap + 9}}}""",
            runningUsage: i => $$"""{"prompt_tokens":9,"completion_tokens":{{i / 2}},"total_tokens":{{9 + (i / 2)}}}""");
        var (record, body) = await StreamAsync("scripted-exact", cap);

        Assert.Equal("ok", record.Reason);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        Assert.Equal(cap, record.Usage.OutputTokens);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        Assert.False(record.Overshoot);
    }

    [Fact]
    public async Task RunningUpstreamCounts_PassingTheCap_CutTheStreamThere()
    {
        const int Cap = 20;
        _upstream.Respond = (http, _) => ScriptedUpstream.WriteStreamAsync(http, s_pieces, finalUsageJson: null,
            runningUsage: i => $$"""{"prompt_tokens":9,"completion_tokens":{{i}},"total_tokens":{{9 + i}}}""");
        var (record, body) = await StreamAsync("scripted-exact", Cap);

        Assert.Equal("output_limit_exceeded", record.Reason);
        // Exactly the chunks the upstream counted within the cap reached the caller.
        Assert.Equal(Cap, StreamingTests.DataEvents(body).Count(e => e.Contains("\"content\"", StringComparison.Ordinal)));
        Assert.Equal(UsageSource.Reported, record.UsageSource);
        // Billed as the upstream counted when it overran: the chunk that passed the cap was generated, though not relayed.
        Assert.Equal(Cap + 1, record.Usage.OutputTokens);
        Assert.True(record.Overshoot);
    }

    private async Task<(AuditRecord Record, string Body)> StreamAsync(string model, long maxTokens)
    {
        string key = await _gateway.CreateKeyAsync();
        string body = $$"""{"model":"{{model}}","max_tokens":{{maxTokens}},"stream":true,"messages":[{"role":"user","content":"Write."}]}""";
        using var response = await _gateway.Http.SendAsync(ChatCompletionTests.Json(key, body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string text = await response.Content.ReadAsStringAsync();
        return (await _gateway.AuditAsync(response.Headers.GetValues("x-request-id").Single()), text);
    }
}
