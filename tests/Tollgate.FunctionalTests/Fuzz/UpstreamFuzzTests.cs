using System.Collections.Concurrent;
using System.Net;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// Malformed upstream replies (<see cref="MalformedUpstreamReplies"/>), plain and streamed, from a fake OpenAI server
/// on loopback: the caller gets a 200, the documented 502 (or the mapped 400/429 for upstream refusals), or — once a
/// stream's 200 went out — a final SSE error event, never a 500; and every ledger record is within sane bounds and
/// counts output whenever output text arrived. Seed and count: <see cref="FuzzSettings"/>.
/// </summary>
public sealed class UpstreamFuzzTests
{
    /// <summary>Failures tagged with this break the rule: malformed upstream usage is estimated, never billed as reported or zero.</summary>
    internal const string RuleMalformedUsage = "[rule: malformed upstream usage is estimated, never billed as reported or zero]";

    /// <summary>Failures tagged with this break the rule: usage above what the request can produce is clamped.</summary>
    internal const string RuleAbsurdUsage = "[rule: usage above what the request can produce is clamped]";

    /// <summary>Failures tagged with this break the rule: invalid UTF-8 / lone surrogates in upstream text are counted, never thrown.</summary>
    internal const string RuleInvalidUpstreamText = "[rule: invalid UTF-8 / lone surrogates in upstream text are counted, never thrown]";

    /// <summary>Failures tagged with this: a stream the upstream ends after its usage but without [DONE] reaches the caller with no terminator.</summary>
    internal const string RuleTerminator = "[rule: every relayed stream ends with [DONE] or an error event]";

    /// <summary>Failures tagged with this break the rule: a streamed estimate is billed at most the reservation.</summary>
    internal const string RuleOvershootEstimate = "[rule: a streamed estimate is billed at most the reservation]";

    private const long ContextWindow = FuzzGateway.ContextWindow;
    private const long OutputCap = 64;

    // Prices of fuzz-chat in nano-dollars per token: $1, $0.5 and $2 per million tokens.
    private const long MaxCostNanos = ContextWindow * 1000 + ContextWindow * 2000;

    [Fact]
    public async Task Fuzz_MalformedUpstreamReplies_NeverServerErrorAndLedgerStaysSane()
    {
        int seed = FuzzSettings.Seed(20_261_124);
        int iterations = FuzzSettings.Iterations(600);
        var failures = new FuzzFailures("upstream fuzz", seed, iterations);
        await using var upstream = await FakeOpenAIUpstream.StartAsync();
        await using var gateway = await FuzzGateway.StartAsync(upstream);
        var (keyId, key) = await gateway.CreateKeyWithIdAsync(plan: "fuzz", tenant: "fuzz", user: "fuzzer");
        var sent = new ConcurrentDictionary<string, (UpstreamReply Reply, bool Stream)>(StringComparer.Ordinal);

        await Parallel.ForEachAsync(Enumerable.Range(0, iterations), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, cancellationToken) =>
        {
            var random = new Random(unchecked((seed * 1_000_003) + i));
            int caseNumber = i % MalformedUpstreamReplies.Count;
            int caseSeed = random.Next();
            bool stream = random.Next(2) == 0;
            bool includeUsage = stream && random.Next(2) == 0;
            var reply = MalformedUpstreamReplies.Build(caseNumber, caseSeed, stream);
            string requestId = $"upfuzz-{seed}-{i}";
            string label = $"#{i} {reply.Case} (case {caseNumber}, seed {caseSeed}, {(stream ? "stream" : "plain")}, {reply.Length} bytes)";
            sent[requestId] = (reply, stream);
            string options = includeUsage ? ""","stream_options":{"include_usage":true}""" : "";
            string body = $$"""{"model":"fuzz-chat","max_tokens":{{OutputCap}},"stream":{{(stream ? "true" : "false")}}{{options}},"messages":[{"role":"user","content":"fuzzcase:{{caseNumber}}:{{caseSeed}} answer briefly"}]}""";
            using var request = ChatCompletionTests.Json(key, body);
            request.Headers.Add("x-request-id", requestId);
            try
            {
                using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                string text = await response.Content.ReadAsStringAsync(cancellationToken);
                CheckResponse(failures, label, Subject(reply, stream), reply, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, text);
            }
            catch (HttpRequestException e)
            {
                failures.Add("response cut without a final error event" + (InvalidText(reply.Case) ? " " + RuleInvalidUpstreamText : ""), $"{label}: {e.Message}", Subject(reply, stream));
            }
        });

        await GatewayHealth.DrainAsync(gateway);
        failures.Check(upstream.Unrecognized == 0, "fake upstream got a request without a case", $"{upstream.Unrecognized} requests");
        var records = (await gateway.AuditRecordsAsync()).ToLookup(r => r.RequestId, StringComparer.Ordinal);
        foreach (var (requestId, (reply, stream)) in sent)
        {
            var mine = records[requestId].ToList();
            failures.Check(mine.Count == 1, "not exactly one audit record", $"{requestId} {reply.Case}: {mine.Count}");
            if (mine.Count == 1)
            {
                CheckRecord(failures, $"{requestId} {reply.Case} ({(stream ? "stream" : "plain")})", Subject(reply, stream), reply, mine[0]);
            }
        }

        await GatewayHealth.CheckAsync(gateway, failures, key, keyId, "fuzz", "fuzzer");
        failures.AssertNone();
    }

    private static void CheckResponse(FuzzFailures failures, string label, string subject, UpstreamReply reply, int status, string? mediaType, string text)
    {
        string seen = $"{label} -> {status} {mediaType}: {Tail(text)}";
        string tag = InvalidText(subject) ? " " + RuleInvalidUpstreamText : "";
        int[] allowed = reply.Status switch
        {
            >= 200 and < 300 => [200, 502],
            400 or 404 or 422 => [400],
            429 => [429],
            _ => [502],
        };
        failures.Check(status < 500 || status == 502, (status >= 500 ? $"{status} to the caller" : "unexpected status") + tag, seen, subject);
        failures.Check(allowed.Contains(status), "status not the documented one for this reply" + tag, seen, subject);
        if (status != 200)
        {
            string? problem = OpenAIErrorShape.Problem(text, out _, out string? code);
            failures.Check(problem is null, "error not in OpenAI's shape", $"{seen} ({problem})", subject);
            failures.Check(status != 502 || code is "upstream_error" or "output_limit_exceeded", "502 without upstream_error", seen, subject);
            return;
        }

        if (mediaType == "text/event-stream")
        {
            string last = LastEvent(text);
            bool ends = last == "data: [DONE]" || (last.StartsWith("data: {\"error\":", StringComparison.Ordinal) && OpenAIErrorShape.Problem(last[6..], out _, out _) is null);
            failures.Check(ends, "stream ends with neither [DONE] nor an error event" + (subject.StartsWith("missing-done", StringComparison.Ordinal) ? " " + RuleTerminator : ""), seen, subject);
        }
    }

    private static void CheckRecord(FuzzFailures failures, string label, string subject, UpstreamReply reply, AuditRecord record)
    {
        var usage = record.Usage;
        string seen = $"{label}: in={usage.InputTokens} cached={usage.CachedInputTokens} out={usage.OutputTokens} reasoning={usage.ReasoningTokens} cost={record.CostNanos} source={record.UsageSource} reason={record.Reason} status={record.Status}";
        string bound = subject.StartsWith("huge-event", StringComparison.Ordinal) || subject.StartsWith("many-small-events", StringComparison.Ordinal)
            ? RuleOvershootEstimate
            : RuleAbsurdUsage;
        bool negative = usage.InputTokens < 0 || usage.CachedInputTokens < 0 || usage.OutputTokens < 0 || usage.ReasoningTokens < 0 || record.CostNanos < 0;
        failures.Check(!negative, "negative tokens or cost " + RuleAbsurdUsage, seen, subject);
        failures.Check(usage.InputTokens <= ContextWindow && usage.OutputTokens <= ContextWindow,
            "tokens above the context window " + bound, seen, subject);
        failures.Check(record.CostNanos <= MaxCostNanos, "cost above a full context window " + bound, seen, subject);
        failures.Check(usage.CachedInputTokens <= usage.InputTokens, "cached tokens above the input " + RuleMalformedUsage, seen, subject);
        failures.Check(usage.ReasoningTokens <= usage.OutputTokens, "reasoning tokens above the output " + RuleMalformedUsage, seen, subject);
        if (reply.TextSent)
        {
            failures.Check(usage.OutputTokens > 0, "zero output although output text arrived " + (InvalidText(subject) ? RuleInvalidUpstreamText : RuleMalformedUsage), seen, subject);
        }
    }

    private static bool InvalidText(string subject) =>
        subject.StartsWith("invalid-utf8", StringComparison.Ordinal) || subject.StartsWith("lone-surrogate", StringComparison.Ordinal)
        || subject.StartsWith("status-4", StringComparison.Ordinal);

    private static string Subject(UpstreamReply reply, bool stream) => reply.Case + (stream ? "/stream" : "/plain");

    private static string LastEvent(string text)
    {
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return events.Length == 0 ? "" : events[^1];
    }

    private static string Tail(string text) => text.Length <= 240 ? text : "…" + text[^240..];
}
