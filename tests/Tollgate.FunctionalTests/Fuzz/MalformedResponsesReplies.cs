using System.Text;
using static Tollgate.FunctionalTests.Fuzz.MalformedUpstreamReplies;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// A fake OpenAI upstream's replies to <c>/v1/responses</c>, plain and streamed: valid ones; broken, missing, negative
/// and huge usage; a broken <c>response.completed</c>; <c>response.failed</c> and <c>response.incomplete</c>;
/// <c>error</c> events mid-stream; streams without a final event, cut mid-event, with events after it; non-JSON and
/// truncated bodies, wrong content types, error statuses; output items of the wrong shape and many hosted tool calls;
/// invalid text. A reply is a pure function of (case, seed, stream).
/// </summary>
internal static class MalformedResponsesReplies
{
    private const string Json = "application/json";
    private const string Sse = "text/event-stream";
    private const string SaneUsage = """{"input_tokens":12,"input_tokens_details":{"cached_tokens":0},"output_tokens":8,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":20}""";

    private static readonly (string Name, string Usage)[] s_badUsage =
    [
        ("empty", "{}"),
        ("strings", """{"input_tokens":"12","output_tokens":"7"}"""),
        ("negative", """{"input_tokens":-5,"output_tokens":-7}"""),
        ("fractional", """{"input_tokens":12.5,"output_tokens":7.25}"""),
        ("9e18", """{"input_tokens":9000000000000000000,"output_tokens":9000000000000000000}"""),
        ("int64-max", """{"input_tokens":9223372036854775807,"output_tokens":9223372036854775807}"""),
        ("exponent", """{"input_tokens":9e18,"output_tokens":1e400}"""),
        ("above-context", """{"input_tokens":50000,"output_tokens":40000}"""),
        ("cached-above-input", """{"input_tokens":10,"output_tokens":6,"input_tokens_details":{"cached_tokens":5000}}"""),
        ("reasoning-above-output", """{"input_tokens":10,"output_tokens":6,"output_tokens_details":{"reasoning_tokens":5000}}"""),
        ("zero-output", """{"input_tokens":10,"output_tokens":0}"""),
        ("array", "[]"),
        ("number", "42"),
        ("nested", """{"input_tokens":{"a":1},"output_tokens":[1]}"""),
        ("duplicates", """{"input_tokens":10,"input_tokens":-1,"output_tokens":5,"output_tokens":9000000000000000000}"""),
    ];

    private static readonly Func<Random, bool, UpstreamReply>[] s_cases =
    [
        (r, stream) => Normal("valid", r, stream, SaneUsage),
        (r, stream) =>
        {
            var (name, usage) = s_badUsage[r.Next(s_badUsage.Length)];
            return Normal("bad-usage:" + name, r, stream, usage);
        },
        (r, stream) => Normal("usage-missing", r, stream, r.Next(2) == 0 ? "null" : null),
        NonJson,
        Truncated,
        WrongContentType,
        (r, stream) => new UpstreamReply("empty-200", 200, stream ? Sse : Json, []),
        ErrorStatus,
        (r, stream) => Normal("failed", r, stream, r.Next(2) == 0 ? SaneUsage : "null", status: "failed", error: """{"code":"server_error","message":"The model failed."}"""),
        ErrorEvent,
        BrokenCompleted,
        (r, stream) => Normal("no-final-event", r, stream, SaneUsage, final: false),
        (r, stream) => Normal("incomplete", r, stream, SaneUsage, status: "incomplete"),
        (r, stream) => Normal("invalid-utf8-content", r, stream, SaneUsage, Text(r, InvalidUtf8[r.Next(InvalidUtf8.Length)])),
        (r, stream) => Normal("lone-surrogate-content", r, stream, SaneUsage, Text(r, Encoding.ASCII.GetBytes(LoneSurrogates[r.Next(LoneSurrogates.Length)]))),
        CutMidEvent,
        EventsAfterFinal,
        WrongOutputShapes,
        (r, stream) => Normal("hosted-calls", r, stream, SaneUsage, calls: r.Next(1, 200)),
        DeepNesting,
    ];

    public static int Count => s_cases.Length;

    public static UpstreamReply Build(int caseNumber, int seed, bool stream) => s_cases[caseNumber % s_cases.Length](new Random(seed), stream);

    /// <summary>The number of the case whose replies are named <paramref name="name"/>.</summary>
    public static int IndexOf(string name, bool stream)
    {
        for (int i = 0; i < s_cases.Length; i++)
        {
            if (s_cases[i](new Random(0), stream).Case.Split(':')[0] == name)
            {
                return i;
            }
        }

        throw new ArgumentException($"No case is named '{name}'.", nameof(name));
    }

    // A response object (plain), or its events: response.created, the text deltas, the final event (response.<status>).
    private static UpstreamReply Normal(string name, Random r, bool stream, string? usage, byte[]? text = null, string status = "completed",
        string? error = null, bool final = true, int calls = 0)
    {
        text ??= Text(r, []);
        byte[] response = Response(status, text, usage, error, calls);
        if (!stream)
        {
            return new UpstreamReply(name, 200, Json, [response]) { TextSent = true };
        }

        var parts = new List<byte[]> { Event("response.created", Cat("""{"type":"response.created","sequence_number":0,"response":""", Response("in_progress", null, "null", null, 0), "}")) };
        parts.AddRange(Split(text).Select(TextDelta));
        if (final)
        {
            parts.Add(Event("response." + status, Cat("""{"type":"response.""" + status + "\",\"sequence_number\":9,\"response\":", response, "}")));
        }

        return new UpstreamReply(name, 200, Sse, parts) { TextSent = true };
    }

    private static UpstreamReply NonJson(Random r, bool stream)
    {
        string[] bodies = ["<html><body>502 Bad Gateway</body></html>", "not json", "{", "[1,2", "null", "{\"a\":1}{\"b\":2}"];
        byte[] body = r.Next(4) == 0 ? RandomBytes(r, 200) : Encoding.UTF8.GetBytes(bodies[r.Next(bodies.Length)]);
        return stream
            ? new UpstreamReply("non-json-sse", 200, Sse, [Encoding.UTF8.GetBytes("event: response.created\ndata: nope\n\n"), body])
            : new UpstreamReply("non-json", 200, Json, [body]);
    }

    private static UpstreamReply Truncated(Random r, bool stream)
    {
        var valid = Normal("truncated", r, stream, SaneUsage);
        byte[] last = valid.Parts[^1];
        return valid with { Parts = [.. valid.Parts.Take(valid.Parts.Count - 1), last[..r.Next(last.Length - 2)]], TextSent = stream };
    }

    private static UpstreamReply WrongContentType(Random r, bool stream)
    {
        var valid = Normal("wrong-content-type", r, stream, SaneUsage);
        return valid with { ContentType = stream ? (r.Next(2) == 0 ? "application/json" : "text/plain") : (r.Next(2) == 0 ? "text/event-stream" : "text/html") };
    }

    private static UpstreamReply ErrorStatus(Random r, bool stream)
    {
        int[] statuses = [400, 401, 404, 409, 422, 429, 500, 502, 503];
        int status = statuses[r.Next(statuses.Length)];
        byte[] body = r.Next(3) == 0
            ? Encoding.UTF8.GetBytes("<html>oops</html>")
            : Encoding.UTF8.GetBytes("""{"error":{"message":"upstream says no","type":"invalid_request_error","param":null,"code":"nope"}}""");
        return new UpstreamReply("status-" + status, status, Json, [body]) { Headers = status == 429 ? [("retry-after", "2")] : [] };
    }

    private static UpstreamReply ErrorEvent(Random r, bool stream)
    {
        const string Error = """{"type":"error","sequence_number":3,"code":"server_error","message":"Something broke.","param":null}""";
        if (!stream)
        {
            return new UpstreamReply("error-object-200", 200, Json, [Encoding.UTF8.GetBytes("""{"error":{"message":"Something broke.","type":"server_error","code":"server_error"}}""")]);
        }

        var valid = Normal("error-event", r, stream, SaneUsage);
        var parts = valid.Parts.Take(valid.Parts.Count - 1).Append(Event("error", Error));
        return valid with { Parts = r.Next(2) == 0 ? [.. parts] : [.. parts, valid.Parts[^1]] };
    }

    private static UpstreamReply BrokenCompleted(Random r, bool stream)
    {
        string[] finals =
        [
            "{\"type\":\"response.completed\",\"response\":\"done\"}",
            "{\"type\":\"response.completed\"}",
            "{\"type\":\"response.completed\",\"response\":{\"id\":7,\"usage\":" + SaneUsage + ",\"output\":{}}}",
            "{\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":8}",
            "{\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"output\":[],\"usage\":{\"input_tokens\":12,\"output_tokens\":8}},\"response\":{\"usage\":null}}",
        ];
        int pick = r.Next(finals.Length);
        if (!stream)
        {
            return new UpstreamReply("broken-response:" + pick, 200, Json, [Encoding.UTF8.GetBytes(finals[pick])]);
        }

        var valid = Normal("broken-completed:" + pick, r, stream, SaneUsage);
        return valid with { Parts = [.. valid.Parts.Take(valid.Parts.Count - 1), Event("response.completed", finals[pick])] };
    }

    private static UpstreamReply CutMidEvent(Random r, bool stream)
    {
        var valid = Normal("cut-mid-event", r, stream, SaneUsage);
        byte[] whole = Cat([.. valid.Parts]);
        int cut = r.Next(whole.Length / 2, whole.Length - 1);
        return valid with { Parts = [whole[..cut]], Abort = true, TextSent = false };
    }

    private static UpstreamReply EventsAfterFinal(Random r, bool stream)
    {
        if (!stream)
        {
            return new UpstreamReply("trailing-json", 200, Json, [Cat(Normal("x", r, false, SaneUsage).Parts[0], " {\"more\":1}")]);
        }

        var valid = Normal("events-after-final", r, stream, SaneUsage);
        return valid with { Parts = [.. valid.Parts, TextDelta(Text(r, [])), valid.Parts[^1]] };
    }

    private static UpstreamReply WrongOutputShapes(Random r, bool stream)
    {
        string[] outputs =
        [
            "\"output\":\"just text\"",
            "\"output\":[7,null,\"x\",{\"type\":5},{\"type\":\"web_search_call\",\"type\":\"message\"}]",
            "\"output\":[{\"type\":\"message\",\"content\":\"not parts\"},{\"type\":\"function_call\",\"arguments\":{}}]",
        ];
        byte[] body = Encoding.UTF8.GetBytes("{\"id\":\"resp_fuzz\",\"object\":\"response\",\"status\":\"completed\"," + outputs[r.Next(outputs.Length)] + ",\"usage\":" + SaneUsage + "}");
        return stream
            ? new UpstreamReply("wrong-output-shapes", 200, Sse, [Event("response.completed", Cat("""{"type":"response.completed","response":""", body, "}"))])
            : new UpstreamReply("wrong-output-shapes", 200, Json, [body]);
    }

    private static UpstreamReply DeepNesting(Random r, bool stream)
    {
        int depth = r.Next(100, 2000);
        string nested = new string('[', depth) + new string(']', depth);
        byte[] body = Encoding.UTF8.GetBytes("{\"id\":\"resp_fuzz\",\"object\":\"response\",\"output\":" + nested + ",\"usage\":" + SaneUsage + "}");
        return stream
            ? new UpstreamReply("deep-nesting", 200, Sse, [Event("response.completed", Cat("""{"type":"response.completed","response":""", body, "}"))])
            : new UpstreamReply("deep-nesting", 200, Json, [body]);
    }

    private static byte[] Response(string status, byte[]? text, string? usage, string? error, int calls)
    {
        var output = new StringBuilder();
        for (int i = 0; i < calls; i++)
        {
            output.Append("{\"type\":\"web_search_call\",\"id\":\"ws_").Append(i).Append("\",\"status\":\"completed\"},");
        }

        return Cat(
            "{\"id\":\"resp_fuzz\",\"object\":\"response\",\"status\":\"", status, "\",\"error\":", error ?? "null", ",\"output\":[", output.ToString(),
            text is null ? "" : Cat("""{"type":"message","id":"msg_fuzz","role":"assistant","content":[{"type":"output_text","text":""", text, "}]}"),
            "]", usage is null ? "" : ",\"usage\":" + usage, "}");
    }

    private static byte[] TextDelta(byte[] literal) =>
        Cat("event: response.output_text.delta\ndata: ", """{"type":"response.output_text.delta","item_id":"msg_fuzz","output_index":0,"content_index":0,"delta":""", literal, "}\n\n");

    private static byte[] Event(string name, byte[] data) => Cat("event: " + name + "\ndata: ", data, "\n\n");

    private static byte[] Event(string name, string data) => Event(name, Encoding.UTF8.GetBytes(data));
}
