using System.Collections.Concurrent;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// Malformed upstream replies to <c>/v1/messages</c> (<see cref="MalformedMessagesReplies"/>, from an upstream of kind
/// <c>anthropic</c>) and <c>/v1/responses</c> (<see cref="MalformedResponsesReplies"/>), plain and streamed, with the
/// invariants of <see cref="UpstreamFuzzTests"/>: never a 500; the caller gets a well-formed answer or error in its own
/// protocol (Anthropic's error envelope and <c>error</c> event; OpenAI's envelope and the Responses <c>error</c> event),
/// and a stream ends with its protocol's last event; exactly one ledger record per request, within what the request can
/// produce, an estimate never above the reservation; nothing left held. Seed and count: <see cref="FuzzSettings"/>.
/// </summary>
public sealed class ProtocolUpstreamFuzzTests
{
    private const long ContextWindow = FuzzGateway.ContextWindow;
    private const long OutputCap = 64;
    private const long ModelMaxOutput = 1024;

    // Prices of fuzz-chat: $1 input, $2 output per million tokens (fuzz-chat prices no hosted tool).
    private const long MaxCostNanos = ContextWindow * 1000 + ModelMaxOutput * 2000;

    [Fact]
    public Task Fuzz_MalformedMessagesReplies_NeverServerErrorAndLedgerStaysSane() =>
        RunAsync(Protocol.Messages, FuzzSettings.Seed(20_261_201), FuzzSettings.Iterations(300));

    [Fact]
    public Task Fuzz_MalformedResponsesReplies_NeverServerErrorAndLedgerStaysSane() =>
        RunAsync(Protocol.Responses, FuzzSettings.Seed(20_261_202), FuzzSettings.Iterations(300));

    internal enum Protocol
    {
        Messages,
        Responses,
    }

    private static async Task RunAsync(Protocol protocol, int seed, int iterations)
    {
        bool messages = protocol == Protocol.Messages;
        Func<int, int, bool, UpstreamReply> build = messages ? MalformedMessagesReplies.Build : MalformedResponsesReplies.Build;
        int cases = messages ? MalformedMessagesReplies.Count : MalformedResponsesReplies.Count;
        var failures = new FuzzFailures($"{protocol} upstream fuzz", seed, iterations);
        await using var upstream = await FakeOpenAIUpstream.StartAsync(build);
        await using var gateway = await FuzzGateway.StartAsync(upstream, messages ? "anthropic" : "openai");
        var (keyId, key) = await gateway.CreateKeyWithIdAsync(plan: "fuzz", tenant: "fuzz", user: "fuzzer");
        var sent = new ConcurrentDictionary<string, (UpstreamReply Reply, bool Stream)>(StringComparer.Ordinal);

        await Parallel.ForEachAsync(Enumerable.Range(0, iterations), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, cancellationToken) =>
        {
            var random = new Random(unchecked((seed * 1_000_003) + i));
            int caseNumber = i % cases;
            int caseSeed = random.Next();
            bool stream = random.Next(2) == 0;
            var reply = build(caseNumber, caseSeed, stream);
            string requestId = $"{protocol}-fuzz-{seed}-{i}";
            string label = $"#{i} {reply.Case} (case {caseNumber}, seed {caseSeed}, {(stream ? "stream" : "plain")}, {reply.Length} bytes)";
            sent[requestId] = (reply, stream);
            string text = $"fuzzcase:{caseNumber}:{caseSeed} answer briefly";
            string body = messages
                ? $$"""{"model":"fuzz-chat","max_tokens":{{OutputCap}},"stream":{{Bool(stream)}},"messages":[{"role":"user","content":"{{text}}"}]}"""
                : $$"""{"model":"fuzz-chat","max_output_tokens":{{OutputCap}},"stream":{{Bool(stream)}},"input":"{{text}}"}""";
            using var request = ChatCompletionTests.Json(key, body, messages ? "/v1/messages" : "/v1/responses");
            request.Headers.Add("x-request-id", requestId);
            if (messages)
            {
                request.Headers.Add("anthropic-version", "2023-06-01");
            }

            try
            {
                using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                string answer = await response.Content.ReadAsStringAsync(cancellationToken);
                CheckResponse(failures, protocol, label, Subject(reply, stream), reply, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, answer);
            }
            catch (HttpRequestException e)
            {
                failures.Add("response cut without a final error event", $"{label}: {e.Message}", Subject(reply, stream));
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

    private static void CheckResponse(FuzzFailures failures, Protocol protocol, string label, string subject, UpstreamReply reply, int status, string? mediaType, string text)
    {
        string seen = $"{label} -> {status} {mediaType}: {Tail(text)}";
        int[] allowed = reply.Status switch
        {
            >= 200 and < 300 => [200, 502],
            400 or 404 or 422 => [400],
            429 => [429],
            _ => [502],
        };
        failures.Check(status < 500 || status == 502, status >= 500 ? $"{status} to the caller" : "unexpected status", seen, subject);
        failures.Check(allowed.Contains(status), "status not the documented one for this reply", seen, subject);
        if (status != 200)
        {
            string? problem = protocol == Protocol.Messages ? AnthropicErrorShape.Problem(text, out _) : OpenAIErrorShape.Problem(text, out _, out _);
            failures.Check(problem is null, $"error not in the caller's protocol's shape", $"{seen} ({problem})", subject);
            return;
        }

        if (mediaType != "text/event-stream")
        {
            failures.Check(IsJson(text), "a 200 whose body is not JSON", seen, subject);
            return;
        }

        var (name, data) = LastEvent(text);
        bool ends = protocol == Protocol.Messages
            ? (name == "message_stop") || (name == "error" && AnthropicErrorShape.Problem(data, out _) is null)
            : name is "response.completed" or "response.incomplete" or "response.failed" || (name == "error" && IsResponsesErrorEvent(data));
        failures.Check(ends, "stream ends with neither its protocol's last event nor an error event", seen, subject);
    }

    private static void CheckRecord(FuzzFailures failures, string label, string subject, UpstreamReply reply, AuditRecord record)
    {
        var usage = record.Usage;
        string seen = $"{label}: in={usage.InputTokens} cached={usage.CachedInputTokens} out={usage.OutputTokens} reasoning={usage.ReasoningTokens} "
            + $"calls={usage.ToolCalls} cost={record.CostNanos} source={record.UsageSource} reason={record.Reason} status={record.Status}";
        bool negative = usage.InputTokens < 0 || usage.CachedInputTokens < 0 || usage.OutputTokens < 0 || usage.ReasoningTokens < 0
            || usage.CacheWrite5mTokens < 0 || usage.CacheWrite1hTokens < 0 || record.CostNanos < 0 || record.ToolFeeNanos < 0;
        failures.Check(!negative, "negative tokens or cost", seen, subject);
        failures.Check(usage.InputTokens <= ContextWindow && usage.OutputTokens <= ModelMaxOutput, "tokens above what the request can produce", seen, subject);
        failures.Check(record.CostNanos <= MaxCostNanos, "cost above a full context window", seen, subject);
        failures.Check(usage.CachedInputTokens + usage.CacheWrite5mTokens + usage.CacheWrite1hTokens <= usage.InputTokens, "cache reads and writes above the input", seen, subject);
        failures.Check(usage.ReasoningTokens <= usage.OutputTokens, "reasoning tokens above the output", seen, subject);
        if (record.UsageSource is UsageSource.Estimated or UsageSource.Reserved)
        {
            failures.Check(usage.OutputTokens <= OutputCap, "an estimate above the reserved output", seen, subject);
        }

        if (record.Decision == Decisions.Allowed && record.UsageSource == UsageSource.Reported)
        {
            long expected = new ModelPrice(1_000_000, 500_000, 2_000_000).CostNanos(usage);
            failures.Check(record.CostNanos == expected + record.ToolFeeNanos, "cost not the tokens at the model's prices", $"{seen} expected={expected}", subject);
        }

        if (reply.TextSent && reply.Status == 200 && record.UsageSource != UsageSource.None)
        {
            failures.Check(usage.OutputTokens > 0, "zero output although output text arrived", seen, subject);
        }
    }

    private static bool IsResponsesErrorEvent(string data)
    {
        try
        {
            using var document = JsonDocument.Parse(data);
            var root = document.RootElement;
            return root.TryGetProperty("type", out var type) && type.ValueEquals("error")
                && root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String && message.GetString()!.Length > 0
                && root.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // The last event's name (its "event:" line, else its data's "type") and data.
    private static (string Name, string Data) LastEvent(string text)
    {
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (int i = events.Length - 1; i >= 0; i--)
        {
            string name = "";
            string data = "";
            foreach (string line in events[i].Split('\n'))
            {
                if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    name = line[6..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data = line[5..].Trim();
                }
            }

            if (name == "ping" || (name.Length == 0 && data.Length == 0))
            {
                // A keep-alive (ping event or SSE comment) is not the end of anything.
                continue;
            }

            return (name, data);
        }

        return ("", "");
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Subject(UpstreamReply reply, bool stream) => reply.Case.Split(':')[0] + (stream ? "/stream" : "/plain");

    private static string Tail(string text) => text.Length <= 240 ? text : "…" + text[^240..];
}
