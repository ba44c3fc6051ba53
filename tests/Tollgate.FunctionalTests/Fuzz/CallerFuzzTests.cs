using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// Several thousand malformed requests (<see cref="MalformedRequestBodies"/>) from a valid key to every endpoint of
/// the real gateway (Anthropic's <c>/v1/messages</c> included): never a 5xx, a 400 in the endpoint's protocol's shape
/// (OpenAI's, or Anthropic's for Messages) for what is malformed, exactly one audit record per
/// request, and a healthy gateway afterwards. Seed and count: <see cref="FuzzSettings"/>.
/// </summary>
public sealed class CallerFuzzTests
{
    /// <summary>Failures tagged with this break the rule: invalid UTF-8 / lone surrogates in request text are a 400.</summary>
    internal const string RuleInvalidText = "[rule: invalid UTF-8 / lone surrogates in request text are a 400]";

    [Fact]
    public async Task Fuzz_MalformedCallerRequests_NeverServerErrorAndOneAuditRecordEach()
    {
        int seed = FuzzSettings.Seed(20_261_123);
        int iterations = FuzzSettings.Iterations(3000);
        var failures = new FuzzFailures("caller fuzz", seed, iterations);
        await using var gateway = await FuzzGateway.StartAsync();
        var (keyId, key) = await gateway.CreateKeyWithIdAsync(plan: "fuzz", tenant: "fuzz", user: "fuzzer");
        var requestIds = new ConcurrentDictionary<string, FuzzRequest>(StringComparer.Ordinal);
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);

        await Parallel.ForEachAsync(Enumerable.Range(0, iterations), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancellationToken) =>
        {
            var random = new Random(unchecked((seed * 1_000_003) + i));
            var fuzz = MalformedRequestBodies.Next(random);
            string? sentId = random.Next(10) == 0 ? null : $"fuzz-{seed}-{i}";
            string label = $"#{i} {fuzz.Describe()}";
            using var request = new HttpRequestMessage(fuzz.Method, fuzz.Path);
            if (fuzz.Body is not null)
            {
                request.Content = new ByteArrayContent(fuzz.Body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (sentId is not null)
            {
                request.Headers.Add("x-request-id", sentId);
            }

            HttpResponseMessage response;
            string text;
            try
            {
                response = await gateway.Http.SendAsync(request, cancellationToken);
                text = await response.Content.ReadAsStringAsync(cancellationToken);
            }
            catch (HttpRequestException e)
            {
                failures.Add("transport error", $"{label}: {e.Message}", fuzz.Kind);
                return;
            }

            using (response)
            {
                int status = (int)response.StatusCode;
                outcomes.AddOrUpdate($"{fuzz.Path.Split('?')[0]} {status}", 1, (_, n) => n + 1);
                string? echoed = response.Headers.TryGetValues("x-request-id", out var ids) ? ids.Single() : null;
                if (echoed is null || (sentId is not null && echoed != sentId))
                {
                    failures.Add("x-request-id not echoed", $"{label}: sent {sentId}, got {echoed}", fuzz.Kind);
                }
                else if (!requestIds.TryAdd(echoed, fuzz))
                {
                    failures.Add("x-request-id reused", $"{label}: {echoed}", fuzz.Kind);
                }

                if (status >= 500)
                {
                    string check = CarriesInvalidText(fuzz.Body) ? "5xx " + RuleInvalidText : "5xx";
                    failures.Add(check, $"{label} -> {status} {Preview(text)}", fuzz.Kind);
                }

                if (status >= 400 && fuzz.Method != HttpMethod.Head)
                {
                    bool messages = fuzz.Path.StartsWith("/v1/messages", StringComparison.Ordinal);
                    string? problem = messages ? AnthropicErrorShape.Problem(text, out string? type) : OpenAIErrorShape.Problem(text, out type, out _);
                    failures.Check(problem is null, messages ? "error not in Anthropic's shape" : "error not in OpenAI's shape",
                        $"{label} -> {status}: {problem}: {Preview(text)}", fuzz.Kind);
                    failures.Check(status != 400 || type == "invalid_request_error", "400 without invalid_request_error", $"{label} -> {type}", fuzz.Kind);
                }
            }
        });

        await GatewayHealth.DrainAsync(gateway);
        var records = await gateway.AuditRecordsAsync();
        var perId = records.GroupBy(r => r.RequestId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var (id, fuzz) in requestIds)
        {
            int count = perId.GetValueOrDefault(id);
            failures.Check(count == 1, "not exactly one audit record", $"{id} {fuzz.Describe()}: {count} records", fuzz.Kind);
        }

        failures.Check(records.Count == iterations, "audit record count", $"{records.Count} records for {iterations} requests");
        var summary = string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}: {o.Value}"));
        int badRequests = outcomes.Where(o => o.Key.EndsWith(" 400", StringComparison.Ordinal)).Sum(o => o.Value);
        failures.Check(badRequests * 2 > iterations, "most requests are 400", summary);
        foreach (string endpoint in new[] { "/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/embeddings", "/v1/messages" })
        {
            // The generator is not all noise: some bodies are valid and are served.
            failures.Check(outcomes.GetValueOrDefault(endpoint + " 200") > 0, "some requests are served", $"{endpoint}: {summary}");
        }

        await GatewayHealth.CheckAsync(gateway, failures, key, keyId, "fuzz", "fuzzer");
        failures.AssertNone();
    }

    /// <summary>Whether a body holds bytes that are not UTF-8, or a \u escape of a surrogate.</summary>
    internal static bool CarriesInvalidText(byte[]? body)
    {
        if (body is null)
        {
            return false;
        }

        try
        {
            string text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
            return text.Contains("\\ud", StringComparison.OrdinalIgnoreCase) || text.Contains('\0', StringComparison.Ordinal);
        }
        catch (DecoderFallbackException)
        {
            return true;
        }
    }

    private static string Preview(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
