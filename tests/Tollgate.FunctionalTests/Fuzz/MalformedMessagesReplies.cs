using System.Text;
using static Tollgate.FunctionalTests.Fuzz.MalformedUpstreamReplies;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>
/// A fake Anthropic upstream's replies to <c>/v1/messages</c>, plain and streamed: valid ones; broken, missing,
/// negative and huge usage in the message, <c>message_start</c> or <c>message_delta</c>; counts that go backwards;
/// non-JSON and truncated bodies; streams cut mid-event, without <c>message_stop</c>, with events after it; error
/// events mid-stream and error statuses; wrong content types and content blocks of the wrong shape; invalid text.
/// A reply is a pure function of (case, seed, stream).
/// </summary>
internal static class MalformedMessagesReplies
{
    private const string Json = "application/json";
    private const string Sse = "text/event-stream";
    private const string SaneUsage = """{"input_tokens":12,"output_tokens":8}""";

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
        ("cache-huge", """{"input_tokens":10,"output_tokens":6,"cache_read_input_tokens":9000000000000000000,"cache_creation_input_tokens":9000000000000000000}"""),
        ("cache-negative", """{"input_tokens":10,"output_tokens":6,"cache_read_input_tokens":-4,"cache_creation":{"ephemeral_5m_input_tokens":-1,"ephemeral_1h_input_tokens":7}}"""),
        ("cache-split-above", """{"input_tokens":10,"output_tokens":6,"cache_creation_input_tokens":5,"cache_creation":{"ephemeral_5m_input_tokens":500,"ephemeral_1h_input_tokens":9000}}"""),
        ("zero-output", """{"input_tokens":10,"output_tokens":0}"""),
        ("null", "null"),
        ("array", "[]"),
        ("number", "42"),
        ("nested", """{"input_tokens":{"a":1},"output_tokens":[1]}"""),
        ("duplicates", """{"input_tokens":10,"input_tokens":-1,"output_tokens":5,"output_tokens":9000000000000000000}"""),
    ];

    private static readonly Func<Random, bool, UpstreamReply>[] s_cases =
    [
        (r, stream) => Normal("valid", r, stream, SaneUsage, SaneUsage),
        BadUsage,
        (r, stream) => Normal("usage-missing", r, stream, null, null),
        NonJson,
        Truncated,
        WrongContentType,
        (r, stream) => new UpstreamReply("empty-200", 200, stream ? Sse : Json, []),
        ErrorStatus,
        ErrorEvent,
        (r, stream) => Normal("missing-message-stop", r, stream, SaneUsage, SaneUsage, stop: false),
        BrokenMessageStart,
        BrokenMessageDelta,
        WrongContentShapes,
        (r, stream) => Normal("invalid-utf8-content", r, stream, SaneUsage, SaneUsage, Text(r, InvalidUtf8[r.Next(InvalidUtf8.Length)])),
        (r, stream) => Normal("lone-surrogate-content", r, stream, SaneUsage, SaneUsage, Text(r, Encoding.ASCII.GetBytes(LoneSurrogates[r.Next(LoneSurrogates.Length)]))),
        CutMidEvent,
        EventsAfterStop,
        (r, stream) => Normal("huge-text", r, stream, SaneUsage, SaneUsage, Cat("\"", new string('a', 200_000), " end\"")),
        DeepNesting,
    ];

    public static int Count => s_cases.Length;

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

    public static UpstreamReply Build(int caseNumber, int seed, bool stream) => s_cases[caseNumber % s_cases.Length](new Random(seed), stream);

    // A message (plain) or its events: message_start with startUsage, the text block in pieces, message_delta with deltaUsage, message_stop.
    private static UpstreamReply Normal(string name, Random r, bool stream, string? startUsage, string? deltaUsage, byte[]? text = null, bool stop = true)
    {
        text ??= Text(r, []);
        if (!stream)
        {
            return new UpstreamReply(name, 200, Json, [Message(text, deltaUsage)]) { TextSent = true };
        }

        var parts = new List<byte[]> { MessageStart(startUsage), Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""") };
        parts.AddRange(Split(text).Select(TextDelta));
        parts.Add(Event("content_block_stop", """{"type":"content_block_stop","index":0}"""));
        parts.Add(MessageDelta(deltaUsage));
        if (stop)
        {
            parts.Add(Stop);
        }

        return new UpstreamReply(name, 200, Sse, parts) { TextSent = true };
    }

    private static UpstreamReply BadUsage(Random r, bool stream)
    {
        var (name, usage) = s_badUsage[r.Next(s_badUsage.Length)];
        bool inStart = stream && r.Next(2) == 0;
        return Normal("bad-usage:" + name + (inStart ? ":start" : ""), r, stream, inStart ? usage : SaneUsage, inStart ? SaneUsage : usage);
    }

    private static UpstreamReply NonJson(Random r, bool stream)
    {
        string[] bodies = ["<html><body>502 Bad Gateway</body></html>", "not json", "{", "[1,2", "null", "{\"a\":1}{\"b\":2}"];
        byte[] body = r.Next(4) == 0 ? RandomBytes(r, 200) : Encoding.UTF8.GetBytes(bodies[r.Next(bodies.Length)]);
        return stream
            ? new UpstreamReply("non-json-sse", 200, Sse, [Encoding.UTF8.GetBytes("event: message_start\ndata: not json\n\n"), body])
            : new UpstreamReply("non-json", 200, Json, [body]);
    }

    private static UpstreamReply Truncated(Random r, bool stream)
    {
        if (!stream)
        {
            byte[] whole = Message(Text(r, []), SaneUsage);
            return new UpstreamReply("truncated-json", 200, Json, [whole[..r.Next(whole.Length)]]);
        }

        byte[] delta = MessageDelta(SaneUsage);
        return new UpstreamReply("truncated-sse", 200, Sse, [MessageStart(SaneUsage), TextDelta(Text(r, [])), delta[..r.Next(delta.Length - 2)]]) { TextSent = true };
    }

    private static UpstreamReply WrongContentType(Random r, bool stream)
    {
        var valid = Normal("wrong-content-type", r, stream, SaneUsage, SaneUsage);
        string type = stream ? (r.Next(2) == 0 ? "application/json" : "text/plain") : (r.Next(2) == 0 ? "text/event-stream" : "text/html");
        return valid with { ContentType = type };
    }

    private static UpstreamReply ErrorStatus(Random r, bool stream)
    {
        int[] statuses = [400, 401, 403, 404, 413, 429, 500, 503, 529];
        int status = statuses[r.Next(statuses.Length)];
        byte[] body = r.Next(3) == 0
            ? Encoding.UTF8.GetBytes("<html>oops</html>")
            : Encoding.UTF8.GetBytes("{\"type\":\"error\",\"error\":{\"type\":\"" + (status == 429 ? "rate_limit_error" : status == 529 ? "overloaded_error" : "api_error")
                + "\",\"message\":\"upstream says no\"}}");
        return new UpstreamReply("status-" + status, status, r.Next(3) == 0 ? "text/html" : Json, [body])
        {
            Headers = status == 429 ? [("retry-after", r.Next(2) == 0 ? "3" : "soon")] : [],
        };
    }

    private static UpstreamReply ErrorEvent(Random r, bool stream)
    {
        const string Error = """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""";
        if (!stream)
        {
            return new UpstreamReply("error-object-200", 200, Json, [Encoding.UTF8.GetBytes(Error)]);
        }

        var parts = new List<byte[]> { MessageStart(SaneUsage), TextDelta(Text(r, [])), Event("error", Error) };
        if (r.Next(2) == 0)
        {
            parts.Add(MessageDelta(SaneUsage));
            parts.Add(Stop);
        }

        return new UpstreamReply("error-event", 200, Sse, parts) { TextSent = true };
    }

    private static UpstreamReply BrokenMessageStart(Random r, bool stream)
    {
        if (!stream)
        {
            string[] messages = ["{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],\"usage\":" + SaneUsage + "}", """{"type":"message","usage":{"input_tokens":3,"output_tokens":2}}"""];
            return new UpstreamReply("broken-message", 200, Json, [Encoding.UTF8.GetBytes(messages[r.Next(messages.Length)])]) { TextSent = false };
        }

        string[] starts =
        [
            "{\"type\":\"message_start\",\"message\":\"not an object\"}",
            "{\"type\":\"message_start\"}",
            "{\"type\":\"message_start\",\"message\":{\"usage\":",
            "{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":-3}}}",
        ];
        int pick = r.Next(starts.Length + 1);
        var parts = new List<byte[]>();
        if (pick < starts.Length)
        {
            parts.Add(Event("message_start", starts[pick]));
        }

        parts.Add(TextDelta(Text(r, [])));
        parts.Add(MessageDelta(SaneUsage));
        parts.Add(Stop);
        return new UpstreamReply("broken-message-start:" + pick, 200, Sse, parts) { TextSent = true };
    }

    private static UpstreamReply BrokenMessageDelta(Random r, bool stream)
    {
        if (!stream)
        {
            return Normal("broken-message-delta", r, stream, SaneUsage, """{"input_tokens":12,"output_tokens":8,"output_tokens":3}""");
        }

        string[] deltas =
        [
            "{\"type\":\"message_delta\",\"usage\":",
            "{\"type\":\"message_delta\",\"delta\":7,\"usage\":{\"output_tokens\":9}}",
            "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":8}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":3}}",
            "{\"type\":\"message_delta\",\"usage\":{\"input_tokens\":900000,\"output_tokens\":9}}",
            "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":-9}}",
        ];
        int pick = r.Next(deltas.Length);
        var parts = new List<byte[]> { MessageStart(SaneUsage) };
        parts.AddRange(Split(Text(r, [])).Select(TextDelta));
        parts.Add(Event("message_delta", deltas[pick]));
        parts.Add(Stop);
        return new UpstreamReply("broken-message-delta:" + pick, 200, Sse, parts) { TextSent = true };
    }

    private static UpstreamReply WrongContentShapes(Random r, bool stream)
    {
        if (!stream)
        {
            string[] bodies =
            [
                """{"id":"m","type":"message","role":"assistant","content":"just a string","usage":""" + SaneUsage + "}",
                """{"id":"m","type":"message","role":"assistant","content":[{"type":"weird","payload":[1,2]},{"type":"text","text":7}],"usage":""" + SaneUsage + "}",
                """{"id":"m","type":"message","role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":"not an object"}],"usage":""" + SaneUsage + "}",
            ];
            return new UpstreamReply("wrong-content-shapes", 200, Json, [Encoding.UTF8.GetBytes(bodies[r.Next(bodies.Length)])]);
        }

        string[] deltas =
        [
            """{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}""",
            """{"type":"content_block_delta","index":"zero","delta":{"type":"text_delta","text":["a"]}}""",
            """{"type":"content_block_delta","index":9,"delta":"text"}""",
            """{"type":"content_block_start","index":0,"content_block":{"type":"image","source":null}}""",
        ];
        var parts = new List<byte[]> { MessageStart(SaneUsage), Event("content_block_delta", deltas[r.Next(deltas.Length)]), MessageDelta(SaneUsage), Stop };
        return new UpstreamReply("wrong-content-shapes", 200, Sse, parts);
    }

    private static UpstreamReply CutMidEvent(Random r, bool stream)
    {
        byte[] whole = stream ? Cat(MessageStart(SaneUsage), TextDelta(Text(r, [])), MessageDelta(SaneUsage)) : Message(Text(r, []), SaneUsage);
        int cut = r.Next(whole.Length / 2, whole.Length - 1);
        return new UpstreamReply("cut-mid-event", 200, stream ? Sse : Json, [whole[..cut]]) { Abort = true };
    }

    private static UpstreamReply EventsAfterStop(Random r, bool stream)
    {
        if (!stream)
        {
            return new UpstreamReply("trailing-json", 200, Json, [Cat(Message(Text(r, []), SaneUsage), " {\"more\":1}")]);
        }

        var valid = Normal("events-after-stop", r, stream, SaneUsage, SaneUsage);
        return valid with { Parts = [.. valid.Parts, MessageDelta("""{"output_tokens":900}"""), TextDelta(Text(r, [])), Stop] };
    }

    private static UpstreamReply DeepNesting(Random r, bool stream)
    {
        int depth = r.Next(100, 2000);
        string nested = new string('[', depth) + new string(']', depth);
        byte[] body = Encoding.UTF8.GetBytes($$"""{"type":"message","content":[{"type":"text","text":"x"}],"extra":{{nested}},"usage":{{SaneUsage}}}""");
        return stream
            ? new UpstreamReply("deep-nesting", 200, Sse, [MessageStart(SaneUsage), Event("content_block_delta", Encoding.UTF8.GetString(body)), MessageDelta(SaneUsage), Stop])
            : new UpstreamReply("deep-nesting", 200, Json, [body]);
    }

    private static byte[] Stop => Event("message_stop", """{"type":"message_stop"}""");

    private static byte[] Message(byte[] text, string? usage) => Cat(
        """{"id":"msg_fuzz","type":"message","role":"assistant","model":"fuzz-claude","content":[{"type":"text","text":""", text,
        """}],"stop_reason":"end_turn","stop_sequence":null""", usage is null ? "" : ",\"usage\":" + usage, "}");

    private static byte[] MessageStart(string? usage) => Event("message_start",
        """{"type":"message_start","message":{"id":"msg_fuzz","type":"message","role":"assistant","model":"fuzz-claude","content":[],"stop_reason":null"""
        + (usage is null ? "" : ",\"usage\":" + usage) + "}}");

    private static byte[] MessageDelta(string? usage) => Event("message_delta",
        """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null}""" + (usage is null ? "" : ",\"usage\":" + usage) + "}");

    private static byte[] TextDelta(byte[] literal) => Cat("event: content_block_delta\ndata: ", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""", literal, "}}\n\n");

    private static byte[] Event(string name, string data) => Encoding.UTF8.GetBytes("event: " + name + "\ndata: " + data + "\n\n");
}
