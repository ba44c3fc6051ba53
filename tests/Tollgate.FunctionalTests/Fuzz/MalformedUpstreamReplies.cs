using System.Globalization;
using System.Text;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// The fake upstream's replies, plain and streamed: valid ones, non-JSON and truncated bodies, wrong content types,
/// malformed and absurd usage, invalid UTF-8 and lone surrogates in content, SSE with garbage lines, without
/// <c>[DONE]</c>, with huge events, error objects mid-stream or a cut mid-event, error statuses, and empty 200s.
/// A reply is a pure function of (case, seed, stream), so the test and the fake upstream agree on it.
/// </summary>
internal static class MalformedUpstreamReplies
{
    private const string Json = "application/json";
    private const string Sse = "text/event-stream";
    private static readonly byte[] _done = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>Usage objects a provider should never send, each paired with a name for reports.</summary>
    private static readonly (string Name, string Usage)[] _badUsage =
    [
        ("empty", "{}"),
        ("strings", """{"prompt_tokens":"12","completion_tokens":"7","total_tokens":"19"}"""),
        ("negative", """{"prompt_tokens":-5,"completion_tokens":-7,"total_tokens":-12}"""),
        ("fractional", """{"prompt_tokens":12.5,"completion_tokens":7.25,"total_tokens":19.75}"""),
        ("9e18", """{"prompt_tokens":9000000000000000000,"completion_tokens":9000000000000000000,"total_tokens":18000000000000000000}"""),
        ("int64-max", """{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807,"total_tokens":9223372036854775807}"""),
        ("exponent", """{"prompt_tokens":9e18,"completion_tokens":1e400,"total_tokens":1e400}"""),
        ("above-context", """{"prompt_tokens":50000,"completion_tokens":40000,"total_tokens":90000}"""),
        ("cached-above-input", """{"prompt_tokens":10,"completion_tokens":6,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":5000}}"""),
        ("reasoning-above-output", """{"prompt_tokens":10,"completion_tokens":6,"total_tokens":16,"completion_tokens_details":{"reasoning_tokens":5000}}"""),
        ("zero-output", """{"prompt_tokens":10,"completion_tokens":0,"total_tokens":10}"""),
        ("null", "null"),
        ("array", "[]"),
        ("number", "42"),
        ("string", "\"lots\""),
        ("nested", """{"prompt_tokens":{"a":1},"completion_tokens":[1],"total_tokens":true}"""),
        ("duplicates", """{"prompt_tokens":10,"prompt_tokens":-1,"completion_tokens":5,"completion_tokens":9000000000000000000}"""),
        ("huge-cached", """{"prompt_tokens":10,"completion_tokens":6,"prompt_tokens_details":{"cached_tokens":9000000000000000000},"completion_tokens_details":{"reasoning_tokens":9000000000000000000}}"""),
    ];

    internal static readonly byte[][] InvalidUtf8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf4, 0x90, 0x80, 0x80]];

    internal static readonly string[] LoneSurrogates = ["\\ud800", "\\udfff", "\\ud83d", "\\udc00\\ud800"];

    private static readonly Func<Random, bool, UpstreamReply>[] _cases =
    [
        (r, stream) => Normal("valid", r, stream, SaneUsage),
        NonJson,
        Truncated,
        WrongContentType,
        (r, stream) =>
        {
            var (name, usage) = _badUsage[r.Next(_badUsage.Length)];
            return Normal("bad-usage:" + name, r, stream, usage);
        },
        (r, stream) => Normal("usage-missing", r, stream, null),
        EmptyOk,
        ErrorObjectOk,
        ErrorStatus,
        (r, stream) => Normal("invalid-utf8-content", r, stream, SaneUsage, content: Text(r, InvalidUtf8[r.Next(InvalidUtf8.Length)])),
        (r, stream) => Normal("lone-surrogate-content", r, stream, SaneUsage, content: Text(r, Encoding.ASCII.GetBytes(LoneSurrogates[r.Next(LoneSurrogates.Length)]))),
        GarbageLines,
        (r, stream) => Normal("missing-done", r, stream, SaneUsage, done: false),
        (r, stream) => Normal("missing-done-and-usage", r, stream, null, done: false),
        HugeEvent,
        ErrorMidStream,
        CutMidEvent,
        UsageTwice,
        DoneThenMore,
        ChoicesWrongTypes,
        DeepNesting,
        ManySmallEvents,
    ];

    public static int Count => _cases.Length;

    private static string SaneUsage => """{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}""";

    /// <summary>The number of the case whose replies are named <paramref name="name"/>.</summary>
    public static int IndexOf(string name, bool stream)
    {
        for (int i = 0; i < _cases.Length; i++)
        {
            if (_cases[i](new Random(0), stream).Case == name)
            {
                return i;
            }
        }

        throw new ArgumentException($"No case is named '{name}'.", nameof(name));
    }

    /// <summary>The reply for case <paramref name="caseNumber"/> with its own random choices from <paramref name="seed"/>.</summary>
    public static UpstreamReply Build(int caseNumber, int seed, bool stream) => _cases[caseNumber % _cases.Length](new Random(seed), stream);

    private static UpstreamReply Normal(string name, Random r, bool stream, string? usage, byte[]? content = null, bool done = true)
    {
        content ??= Text(r, []);
        if (!stream)
        {
            return new UpstreamReply(name, 200, Json, [Completion(content, usage)]) { TextSent = true };
        }

        var parts = new List<byte[]> { Delta("\"\""u8.ToArray()) };
        parts.AddRange(Split(content).Select(Delta));
        if (usage is not null)
        {
            parts.Add(UsageEvent(usage));
        }

        if (done)
        {
            parts.Add(_done);
        }

        return new UpstreamReply(name, 200, Sse, parts) { TextSent = true };
    }

    private static UpstreamReply NonJson(Random r, bool stream)
    {
        string[] bodies = ["<html><body>502 Bad Gateway</body></html>", "not json at all", "{", "}", "[1,2", "null", "\"text\"", "{\"a\":1}{\"b\":2}"];
        byte[] body = r.Next(4) == 0 ? RandomBytes(r, 200) : Encoding.UTF8.GetBytes(bodies[r.Next(bodies.Length)]);
        return stream
            ? new UpstreamReply("non-json-sse", 200, Sse, [Encoding.UTF8.GetBytes("this is not sse\n\nneither is this\n\n"), body])
            : new UpstreamReply("non-json", 200, Json, [body]);
    }

    private static UpstreamReply Truncated(Random r, bool stream)
    {
        if (!stream)
        {
            byte[] whole = Completion(Text(r, []), SaneUsage);
            return new UpstreamReply("truncated-json", 200, Json, [whole[..r.Next(whole.Length)]]);
        }

        byte[] usage = UsageEvent(SaneUsage);
        return new UpstreamReply("truncated-sse", 200, Sse, [Delta(Text(r, [])), usage[..r.Next(usage.Length - 2)]]) { TextSent = true };
    }

    private static UpstreamReply WrongContentType(Random r, bool stream)
    {
        string[] types = ["text/plain", "text/html; charset=utf-8", "application/octet-stream", "application/x-ndjson"];
        string? type = r.Next(5) == 0 ? null : types[r.Next(types.Length)];
        if (!stream)
        {
            return new UpstreamReply("wrong-content-type", 200, type, [Completion(Text(r, []), SaneUsage)]) { TextSent = true };
        }

        // A stream labelled as JSON: the gateway reads it as one (broken) JSON body.
        var sse = Normal("sse-as-json", r, stream, SaneUsage);
        return sse with { ContentType = r.Next(2) == 0 ? Json : type };
    }

    private static UpstreamReply EmptyOk(Random r, bool stream) =>
        new("empty-200", 200, stream && r.Next(2) == 0 ? Sse : Json, []);

    private static UpstreamReply ErrorObjectOk(Random r, bool stream)
    {
        byte[] error = """{"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":"overloaded"}}"""u8.ToArray();
        return stream
            ? new UpstreamReply("error-object-200-sse", 200, Sse, [Cat("data: ", error, "\n\n"), .. r.Next(2) == 0 ? new[] { _done } : []])
            : new UpstreamReply("error-object-200", 200, Json, [error]);
    }

    private static UpstreamReply ErrorStatus(Random r, bool stream)
    {
        int[] statuses = [400, 401, 403, 404, 422, 429, 500, 502, 503];
        int status = statuses[r.Next(statuses.Length)];
        object message = r.Next(4) switch
        {
            0 => "\"bad request\"",
            1 => Cat("\"bad ", InvalidUtf8[r.Next(InvalidUtf8.Length)], " request\""),
            2 => "\"bad " + LoneSurrogates[r.Next(LoneSurrogates.Length)] + " request\"",
            _ => "42",
        };
        byte[] body = r.Next(5) switch
        {
            0 => [],
            1 => "<html>error</html>"u8.ToArray(),
            _ => Cat("{\"error\":{\"message\":", message, ",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}"),
        };
        string[] retryAfter = ["1", "-5", "soon", "99999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "0.5"];
        return new UpstreamReply("status-" + status, status, Json, [body])
        {
            Headers = status == 429 ? [("Retry-After", retryAfter[r.Next(retryAfter.Length)])] : [],
        };
    }

    private static UpstreamReply GarbageLines(Random r, bool stream)
    {
        if (!stream)
        {
            return new UpstreamReply("garbage-json", 200, Json, [Cat(Completion(Text(r, []), SaneUsage)[..^1], ",\"extra\":[1,2,{\"x\":null}],\"usage\":null}")]);
        }

        string[] garbage =
        [
            ": keep-alive comment\n\n", "event: ping\n\n", "data: not json\n\n", "data: {\"broken\n\n", "retry: 10\n\n", "id: 5\n\n",
            "data:\n\n", "\r\n\r\n", "data: {\"choices\":[{\"delta\":{\"content\":\"multi\"}}]\ndata: }\n\n", "garbage without colon\n\n",
            "data: [DONE\n\n", "data: {}\r\n\r\n", "data: []\n\n", "data: 12\n\n",
        ];
        var parts = new List<byte[]>();
        foreach (byte[] piece in Split(Text(r, [])))
        {
            parts.Add(Encoding.UTF8.GetBytes(garbage[r.Next(garbage.Length)]));
            parts.Add(Delta(piece));
        }

        parts.Add(UsageEvent(SaneUsage));
        parts.Add(_done);
        return new UpstreamReply("garbage-lines", 200, Sse, parts) { TextSent = true };
    }

    private static UpstreamReply HugeEvent(Random r, bool stream)
    {
        int[] sizes = [64 * 1024, 1024 * 1024, 5 * 1024 * 1024];
        int size = sizes[r.Next(sizes.Length)];
        var text = new StringBuilder(size + 16).Append('"');
        while (text.Length < size)
        {
            text.Append("lorem ipsum ");
        }

        byte[] content = Encoding.ASCII.GetBytes(text.Append('"').ToString());
        if (!stream)
        {
            return new UpstreamReply("huge-body", 200, Json, [Completion(content, SaneUsage)]) { TextSent = true };
        }

        // Over 4 MiB the gateway refuses the event unread.
        return new UpstreamReply("huge-event", 200, Sse, [Delta(content), UsageEvent(SaneUsage), _done]) { TextSent = size < 4 * 1024 * 1024 };
    }

    private static UpstreamReply ErrorMidStream(Random r, bool stream)
    {
        if (!stream)
        {
            return new UpstreamReply("error-and-choices", 200, Json,
                [Cat(Completion(Text(r, []), SaneUsage)[..^1], ",\"error\":{\"message\":\"partial\",\"type\":\"server_error\"}}")])
            { TextSent = true };
        }

        var parts = new List<byte[]> { Delta(Text(r, [])), "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"code\":\"internal\"}}\n\n"u8.ToArray() };
        if (r.Next(2) == 0)
        {
            parts.Add(Delta(Text(r, [])));
            parts.Add(_done);
        }

        return new UpstreamReply("error-mid-stream", 200, Sse, parts) { TextSent = true };
    }

    private static UpstreamReply CutMidEvent(Random r, bool stream)
    {
        if (!stream)
        {
            byte[] whole = Completion(Text(r, []), SaneUsage);
            return new UpstreamReply("cut-mid-body", 200, Json, [whole[..(whole.Length / 2)]]) { Abort = true };
        }

        byte[] next = Delta(Text(r, []));
        return new UpstreamReply("cut-mid-event", 200, Sse, [Delta(Text(r, [])), next[..r.Next(1, next.Length - 2)]]) { Abort = true, TextSent = true };
    }

    private static UpstreamReply UsageTwice(Random r, bool stream)
    {
        string other = _badUsage[r.Next(_badUsage.Length)].Usage;
        if (!stream)
        {
            return new UpstreamReply("usage-twice", 200, Json, [Cat(Completion(Text(r, []), SaneUsage)[..^1], ",\"usage\":", other, "}")]) { TextSent = true };
        }

        return new UpstreamReply("usage-before-and-after", 200, Sse, [UsageEvent(other), Delta(Text(r, [])), UsageEvent(SaneUsage), _done]) { TextSent = true };
    }

    private static UpstreamReply DoneThenMore(Random r, bool stream)
    {
        if (!stream)
        {
            return new UpstreamReply("trailing-bytes", 200, Json, [Completion(Text(r, []), SaneUsage), "\n{\"more\":true}"u8.ToArray()]) { TextSent = true };
        }

        return new UpstreamReply("done-then-more", 200, Sse, [Delta(Text(r, [])), _done, Delta(Text(r, [])), UsageEvent(SaneUsage), _done]) { TextSent = true };
    }

    private static UpstreamReply ChoicesWrongTypes(Random r, bool stream)
    {
        string[] choices = ["\"x\"", "5", "[5]", "[{\"delta\":{\"content\":5}}]", "[{\"message\":{\"content\":{\"a\":1}}}]", "[[]]", "[{\"delta\":null}]"];
        string choice = choices[r.Next(choices.Length)];
        byte[] body = Encoding.UTF8.GetBytes($"{{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":{choice},\"usage\":{SaneUsage}}}");
        return stream
            ? new UpstreamReply("choices-wrong-types-sse", 200, Sse, [Cat("data: ", body, "\n\n"), _done])
            : new UpstreamReply("choices-wrong-types", 200, Json, [body]);
    }

    private static UpstreamReply DeepNesting(Random r, bool stream)
    {
        int depth = r.Next(2) == 0 ? 127 : 2000;
        string nested = new string('[', depth) + new string(']', depth);
        byte[] body = Encoding.UTF8.GetBytes($"{{\"id\":\"x\",\"extra\":{nested},\"choices\":[],\"usage\":{SaneUsage}}}");
        return stream
            ? new UpstreamReply("deep-nesting-sse", 200, Sse, [Delta(Text(r, [])), Cat("data: ", body, "\n\n"), _done]) { TextSent = true }
            : new UpstreamReply("deep-nesting", 200, Json, [body]);
    }

    private static UpstreamReply ManySmallEvents(Random r, bool stream)
    {
        if (!stream)
        {
            return Normal("many-choices", r, stream, SaneUsage);
        }

        var parts = new List<byte[]>();
        int count = 50 + r.Next(2000);
        for (int i = 0; i < count; i++)
        {
            parts.Add(Delta(Encoding.ASCII.GetBytes($"\"w{i} \"")));
        }

        parts.Add(UsageEvent(SaneUsage));
        parts.Add(_done);
        return new UpstreamReply("many-small-events", 200, Sse, [Cat([.. parts])]) { TextSent = true };
    }

    /// <summary>A JSON string literal of ordinary words, with <paramref name="inside"/> (raw bytes) in the middle.</summary>
    internal static byte[] Text(Random r, byte[] inside) =>
        Cat($"\"Hello there, this is answer {r.Next(1000).ToString(CultureInfo.InvariantCulture)} ", inside, " from the fake upstream.\"");

    /// <summary>Splits a JSON string literal into 2–4 literals at spaces.</summary>
    internal static List<byte[]> Split(byte[] literal)
    {
        var pieces = new List<byte[]>();
        int start = 1;
        for (int i = 1; i < literal.Length - 1; i++)
        {
            if (literal[i] == (byte)' ' && pieces.Count < 3 && i - start > 8)
            {
                pieces.Add(Cat("\"", literal[start..(i + 1)], "\""));
                start = i + 1;
            }
        }

        pieces.Add(Cat("\"", literal[start..]));
        return pieces;
    }

    private static byte[] Completion(byte[] content, string? usage) => Cat(
        """{"id":"chatcmpl-fuzz","object":"chat.completion","created":1,"model":"fuzz-chat","choices":[{"index":0,"message":{"role":"assistant","content":""",
        content, """},"finish_reason":"stop"}]""", usage is null ? "" : ",\"usage\":" + usage, "}");

    private static byte[] Delta(byte[] content) => Cat(
        """data: {"id":"chatcmpl-fuzz","object":"chat.completion.chunk","created":1,"model":"fuzz-chat","choices":[{"index":0,"delta":{"content":""",
        content, "},\"finish_reason\":null}]}\n\n");

    private static byte[] UsageEvent(string usage) => Cat(
        """data: {"id":"chatcmpl-fuzz","object":"chat.completion.chunk","created":1,"model":"fuzz-chat","choices":[],"usage":""", usage, "}\n\n");

    internal static byte[] RandomBytes(Random r, int max)
    {
        byte[] bytes = new byte[r.Next(1, max)];
        r.NextBytes(bytes);
        return bytes;
    }

    internal static byte[] Cat(params object[] pieces)
    {
        var all = new List<byte>();
        foreach (object piece in pieces)
        {
            all.AddRange(piece as byte[] ?? Encoding.UTF8.GetBytes((string)piece));
        }

        return [.. all];
    }
}
