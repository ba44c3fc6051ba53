using System.Text;
using System.Text.Json.Nodes;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>One generated request: what kind of damage it carries, and what to send.</summary>
internal sealed record FuzzRequest(string Kind, HttpMethod Method, string Path, byte[]? Body)
{
    public string Describe()
    {
        string body = Body is null ? "" : Body.Length <= 160 ? Escape(Body) : Escape(Body.AsSpan(0, 160)) + $"… ({Body.Length} bytes)";
        return $"{Kind} {Method} {Path} {body}";
    }

    private static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            text.Append(b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}");
        }

        return text.ToString();
    }
}

/// <summary>
/// Generates malformed caller requests: random bytes, truncations and byte flips of valid bodies, invalid UTF-8 and
/// lone surrogate escapes in string values and property names, deep nesting, huge, negative and fractional numbers,
/// a wrong type in any field, duplicate keys; mostly to the model endpoints, some to <c>/v1/models</c> and unknown
/// routes. Deterministic for a given <see cref="Random"/>.
/// </summary>
internal static class MalformedRequestBodies
{
    private const string ValueHole = "__fuzz_value_hole__";
    private const string KeyHole = "__fuzz_key_hole__";

    private static readonly string[] _numbers =
    [
        "1e400", "-1e400", "2.5", "-1", "0", "-0", "9223372036854775808", "9223372036854775807", "-9223372036854775809",
        "1e-400", "1E5", "4096.0", "100000000000000000000000000000", "2147483648", "-2147483649", "1e308", "0.0000001",
        "18446744073709551616", "1.0e1", "128", "129",
    ];

    private static readonly string[] _numericFields =
    [
        "max_tokens", "max_completion_tokens", "n", "best_of", "temperature", "top_p", "seed", "logprobs", "top_logprobs",
        "presence_penalty", "frequency_penalty", "dimensions",
    ];

    private static readonly string[] _wrongValues =
    [
        "\"yes\"", "\"\"", "1", "-1", "1.5", "true", "false", "null", "[]", "{}", "[1,\"a\"]", "{\"a\":1}", "[[]]", "\"1\"", "[null]",
    ];

    private static readonly byte[][] _invalidUtf8 =
    [
        [0xff], [0xfe], [0xc0, 0xaf], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80],
        [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xc3, 0x28], [0xf0, 0x9f, 0x98], [0x00], [0x01], [0x1f],
    ];

    private static readonly string[] _loneSurrogates =
    [
        "\\ud800", "\\udfff", "\\ud800\\ud800", "\\udc00\\ud800", "\\uD83D", "\\ud800x", "\\ude00abc", "\\ud83d\\u0041", "\\u0000",
    ];

    private static readonly string[] _unknownRoutes =
    [
        "/v1/responses/resp_1/extra", "/v1/assistants", "/v1/chat/completions/extra", "/v1/models/sim-mini", "/v1/files", "/v1/",
        "/v1/audio/speech", "/v1/%E2%80%AE", "/v1/images/generations", "/v1/embeddings/x", "/v1/fine_tuning/jobs",
    ];

    private static readonly HttpMethod[] _methods = [HttpMethod.Get, HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch, HttpMethod.Head];

    /// <summary>Generates the next request.</summary>
    public static FuzzRequest Next(Random random)
    {
        int route = random.Next(100);
        if (route < 4)
        {
            return new FuzzRequest("models", HttpMethod.Get, "/v1/models" + (random.Next(2) == 0 ? "" : "?limit=" + random.Next()), null);
        }

        if (route < 9)
        {
            var method = _methods[random.Next(_methods.Length)];
            string path = random.Next(4) == 0 ? "/v1/" + RandomLetters(random, 1 + random.Next(20)) : _unknownRoutes[random.Next(_unknownRoutes.Length)];
            byte[]? body = method == HttpMethod.Get || method == HttpMethod.Head ? null : Bytes(random, 64);
            return new FuzzRequest("unknown-route", method, path, body);
        }

        var (endpoint, valid) = route switch
        {
            < 35 => ("/v1/chat/completions", ValidRequestBodies.Chat(random)),
            < 50 => ("/v1/completions", ValidRequestBodies.Completion(random)),
            < 68 => (random.Next(5) == 0 ? "/v1/messages?beta=true" : "/v1/messages", ValidRequestBodies.Messages(random)),
            < 86 => ("/v1/responses", ValidRequestBodies.Response(random)),
            _ => ("/v1/embeddings", ValidRequestBodies.Embedding(random)),
        };
        var (kind, bytes) = Mutate(random, valid);
        return new FuzzRequest(kind, HttpMethod.Post, endpoint, bytes);
    }

    private static (string Kind, byte[] Body) Mutate(Random random, JsonObject valid)
    {
        switch (random.Next(13))
        {
            case 0:
                return ("random-bytes", Bytes(random, 300));
            case 1:
                {
                    byte[] whole = Encoding.UTF8.GetBytes(valid.ToJsonString());
                    return ("truncated", whole[..random.Next(whole.Length)]);
                }

            case 2:
                {
                    byte[] whole = Encoding.UTF8.GetBytes(valid.ToJsonString());
                    for (int flips = 1 + random.Next(3); flips > 0; flips--)
                    {
                        whole[random.Next(whole.Length)] = (byte)random.Next(256);
                    }

                    return ("byte-flip", whole);
                }

            case 3:
                return ("invalid-utf8-value", InStringValue(random, valid, _invalidUtf8[random.Next(_invalidUtf8.Length)]));
            case 4:
                return ("lone-surrogate-value", InStringValue(random, valid, Encoding.ASCII.GetBytes(_loneSurrogates[random.Next(_loneSurrogates.Length)])));
            case 5:
                {
                    byte[] inside = random.Next(2) == 0
                        ? _invalidUtf8[random.Next(_invalidUtf8.Length)]
                        : Encoding.ASCII.GetBytes(_loneSurrogates[random.Next(_loneSurrogates.Length)]);
                    return ("bad-text-key", InPropertyName(random, valid, inside));
                }

            case 6:
                return ("deep-nesting", DeepNesting(random, valid));
            case 7:
                {
                    string number = _numbers[random.Next(_numbers.Length)];
                    if (random.Next(3) == 0 && Leaves(valid).Where(l => l.Node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number).ToList() is { Count: > 0 } numbers)
                    {
                        return ("number-leaf", Replace(valid, numbers[random.Next(numbers.Count)], number));
                    }

                    valid[_numericFields[random.Next(_numericFields.Length)]] = ValueHole;
                    return ("number-field", Fill(valid.ToJsonString(), number));
                }

            case 8:
                {
                    var all = Leaves(valid, includeContainers: true);
                    var target = random.Next(2) == 0 ? all.Where(l => l.Parent == valid).ToList() : all;
                    return ("wrong-type", Replace(valid, target[random.Next(target.Count)], _wrongValues[random.Next(_wrongValues.Length)]));
                }

            case 9:
                return ("duplicate-key", DuplicateKey(random, valid));
            case 10:
                {
                    valid["stream"] = random.Next(2) == 0 ? "yes" : new JsonArray(true);
                    valid["stream_options"] = random.Next(2) == 0 ? new JsonArray() : new JsonObject { ["include_usage"] = "true" };
                    return ("stream-types", Encoding.UTF8.GetBytes(valid.ToJsonString()));
                }

            case 11:
                {
                    // Two kinds of damage at once: a wrong type somewhere and a duplicate key elsewhere.
                    var all = Leaves(valid, includeContainers: true);
                    var (parent, key, index, _) = all[random.Next(all.Count)];
                    JsonNode replacement = JsonNode.Parse(_wrongValues[random.Next(_wrongValues.Length - 1)]) ?? JsonValue.Create(0);
                    if (key is not null)
                    {
                        parent.AsObject()[key] = replacement;
                    }
                    else
                    {
                        parent.AsArray()[index] = replacement;
                    }

                    return ("wrong-type+duplicate", DuplicateKey(random, valid));
                }

            default:
                return ("valid", Encoding.UTF8.GetBytes(valid.ToJsonString()));
        }
    }

    private readonly record struct Leaf(JsonNode Parent, string? Key, int Index, JsonNode? Node);

    private static List<Leaf> Leaves(JsonNode root, bool includeContainers = false)
    {
        var found = new List<Leaf>();
        Walk(root, found, includeContainers);
        return found;
    }

    private static void Walk(JsonNode node, List<Leaf> found, bool includeContainers)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj.ToList())
            {
                if (child is JsonValue || child is null || includeContainers)
                {
                    found.Add(new Leaf(obj, key, -1, child));
                }

                if (child is JsonObject or JsonArray)
                {
                    Walk(child, found, includeContainers);
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                var child = array[i];
                if (child is JsonValue || child is null || includeContainers)
                {
                    found.Add(new Leaf(array, null, i, child));
                }

                if (child is JsonObject or JsonArray)
                {
                    Walk(child!, found, includeContainers);
                }
            }
        }
    }

    private static byte[] Replace(JsonObject root, Leaf leaf, string raw) => Replace(root, leaf, Encoding.UTF8.GetBytes(raw));

    private static byte[] Replace(JsonObject root, Leaf leaf, byte[] raw)
    {
        if (leaf.Key is not null)
        {
            leaf.Parent.AsObject()[leaf.Key] = ValueHole;
        }
        else
        {
            leaf.Parent.AsArray()[leaf.Index] = ValueHole;
        }

        return Fill(root.ToJsonString(), raw);
    }

    private static byte[] InStringValue(Random random, JsonObject root, byte[] inside)
    {
        var strings = Leaves(root).Where(l => l.Node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String).ToList();
        var leaf = strings[random.Next(strings.Count)];
        string text = leaf.Node!.GetValue<string>();
        int at = random.Next(text.Length + 1);
        byte[] raw = [.. Encoding.UTF8.GetBytes("\"" + Escape(text[..at])), .. inside, .. Encoding.UTF8.GetBytes(Escape(text[at..]) + "\"")];
        return Replace(root, leaf, raw);
    }

    private static byte[] InPropertyName(Random random, JsonObject root, byte[] inside)
    {
        var keyed = Leaves(root, includeContainers: true).Where(l => l.Key is not null).ToList();
        var leaf = keyed[random.Next(keyed.Count)];
        var parent = leaf.Parent.AsObject();
        var value = leaf.Node?.DeepClone();
        parent.Remove(leaf.Key!);
        parent[KeyHole] = value;
        int at = random.Next(leaf.Key!.Length + 1);
        byte[] raw = [.. Encoding.UTF8.GetBytes("\"" + leaf.Key[..at]), .. inside, .. Encoding.UTF8.GetBytes(leaf.Key[at..] + "\"")];
        return Fill(root.ToJsonString(), raw, "\"" + KeyHole + "\"");
    }

    private static byte[] DeepNesting(Random random, JsonObject root)
    {
        int[] depths = [10, 62, 63, 64, 65, 66, 128, 1000, 20_000];
        int depth = depths[random.Next(depths.Length)];
        bool objects = random.Next(2) == 0;
        var raw = new StringBuilder();
        for (int i = 0; i < depth; i++)
        {
            raw.Append(objects ? "{\"a\":" : "[");
        }

        raw.Append(random.Next(2) == 0 ? "\"deep\"" : "1");
        for (int i = 0; i < depth; i++)
        {
            raw.Append(objects ? '}' : ']');
        }

        if (random.Next(4) == 0)
        {
            return Encoding.UTF8.GetBytes(raw.ToString());
        }

        var all = Leaves(root, includeContainers: true);
        return Replace(root, all[random.Next(all.Count)], raw.ToString());
    }

    private static byte[] DuplicateKey(Random random, JsonObject root)
    {
        var objects = new List<JsonObject> { root };
        objects.AddRange(Leaves(root, includeContainers: true).Select(l => l.Node).OfType<JsonObject>().Where(o => o.Count > 0));
        var target = objects[random.Next(objects.Count)];
        string key = target.ElementAt(random.Next(target.Count)).Key;
        string value = random.Next(2) == 0 ? target[key]?.ToJsonString() ?? "null" : _wrongValues[random.Next(_wrongValues.Length)];
        target[KeyHole] = ValueHole;
        return Fill(root.ToJsonString(), Encoding.UTF8.GetBytes(value), "\"" + ValueHole + "\"", ("\"" + KeyHole + "\"", "\"" + key + "\""));
    }

    private static byte[] Fill(string json, string raw) => Fill(json, Encoding.UTF8.GetBytes(raw));

    private static byte[] Fill(string json, byte[] raw, string hole = "\"" + ValueHole + "\"", (string Hole, string Text)? also = null)
    {
        if (also is { } extra)
        {
            json = json.Replace(extra.Hole, extra.Text, StringComparison.Ordinal);
        }

        int at = json.IndexOf(hole, StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(json[..at]), .. raw, .. Encoding.UTF8.GetBytes(json[(at + hole.Length)..])];
    }

    private static string Escape(string text)
    {
        string quoted = JsonValue.Create(text).ToJsonString();
        return quoted[1..^1];
    }

    private static byte[] Bytes(Random random, int maxLength)
    {
        byte[] bytes = new byte[random.Next(maxLength + 1)];
        random.NextBytes(bytes);
        if (bytes.Length > 0 && random.Next(2) == 0)
        {
            bytes[0] = (byte)'{';
        }

        return bytes;
    }

    private static string RandomLetters(Random random, int length)
    {
        var text = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            text.Append((char)('a' + random.Next(26)));
        }

        return text.ToString();
    }
}
