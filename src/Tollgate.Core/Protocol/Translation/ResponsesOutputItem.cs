using System.Text;
using System.Text.Json;
using Tollgate.Security;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// One output item of a translated Responses answer, as it builds up: the assistant's <c>message</c> (its
/// <c>output_text</c> and <c>refusal</c> parts, with the log-probabilities chat reported) or a <c>function_call</c>.
/// </summary>
internal sealed class ResponsesOutputItem
{
    private ResponsesOutputItem(string type, string id)
    {
        Type = type;
        Id = id;
    }

    /// <summary><c>message</c> or <c>function_call</c>.</summary>
    public string Type { get; }

    /// <summary>The item's id (<c>msg_…</c>, <c>fc_…</c>).</summary>
    public string Id { get; }

    /// <summary>The message's content parts, in order.</summary>
    public List<Part> Parts { get; } = [];

    /// <summary>The function call's <c>call_id</c> (the chat tool call's id).</summary>
    public string CallId { get; private init; } = "";

    /// <summary>The function's name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The namespace the function belongs to, or null.</summary>
    public string? Namespace { get; set; }

    /// <summary>The function call's arguments so far.</summary>
    public StringBuilder Arguments { get; } = new();

    /// <summary><c>in_progress</c>, <c>completed</c> or <c>incomplete</c>.</summary>
    public string Status { get; set; } = "in_progress";

    /// <summary>A new message item.</summary>
    public static ResponsesOutputItem Message() => new("message", NewId("msg"));

    /// <summary>A new function call item.</summary>
    public static ResponsesOutputItem FunctionCall(string? callId, string name, string? group) =>
        new("function_call", NewId("fc")) { CallId = callId ?? NewId("call"), Name = name, Namespace = group };

    /// <summary>A new id with <paramref name="prefix"/>: 32 random hex digits (a translated answer is never stored, so never looked up).</summary>
    public static string NewId(string prefix) => BufferedRandom.HexId(prefix + "_", 16);

    /// <summary>The part of <paramref name="kind"/> (<c>output_text</c> or <c>refusal</c>), added when absent; its index.</summary>
    public int PartOf(string kind, out bool added)
    {
        for (int i = 0; i < Parts.Count; i++)
        {
            if (Parts[i].Kind == kind)
            {
                added = false;
                return i;
            }
        }

        Parts.Add(new Part(kind));
        added = true;
        return Parts.Count - 1;
    }

    /// <summary>Writes the item as it stands.</summary>
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type", Type);
        json.WriteString("id", Id);
        if (Type == "message")
        {
            json.WriteString("status", Status);
            json.WriteString("role", "assistant");
            json.WriteStartArray("content");
            foreach (var part in Parts)
            {
                part.Write(json, whole: true);
            }

            json.WriteEndArray();
        }
        else
        {
            json.WriteString("call_id", CallId);
            json.WriteString("name", Name);
            if (Namespace is not null)
            {
                json.WriteString("namespace", Namespace);
            }

            json.WriteString("arguments", Arguments.ToString());
            json.WriteString("status", Status);
        }

        json.WriteEndObject();
    }

    /// <summary>A content part of the message: <c>output_text</c> (with its log-probabilities) or <c>refusal</c>.</summary>
    internal sealed class Part(string kind)
    {
        /// <summary><c>output_text</c> or <c>refusal</c>.</summary>
        public string Kind { get; } = kind;

        /// <summary>The text (or the refusal) so far.</summary>
        public StringBuilder Text { get; } = new();

        /// <summary>The log-probability entries chat reported, as raw JSON (the two APIs share their shape).</summary>
        public List<byte[]> Logprobs { get; } = [];

        /// <summary>Writes the part: empty when it was just added (<paramref name="whole"/> false), else with all its text.</summary>
        public void Write(Utf8JsonWriter json, bool whole)
        {
            json.WriteStartObject();
            json.WriteString("type", Kind);
            if (Kind == "refusal")
            {
                json.WriteString("refusal", whole ? Text.ToString() : "");
            }
            else
            {
                json.WriteString("text", whole ? Text.ToString() : "");
                json.WriteStartArray("annotations");
                json.WriteEndArray();
                WriteLogprobs(json, whole ? Logprobs : []);
            }

            json.WriteEndObject();
        }

        /// <summary>Writes <c>"logprobs": [...]</c> of <paramref name="entries"/>.</summary>
        public static void WriteLogprobs(Utf8JsonWriter json, IEnumerable<byte[]> entries)
        {
            json.WriteStartArray("logprobs");
            foreach (byte[] entry in entries)
            {
                json.WriteRawValue(entry, skipInputValidation: true);
            }

            json.WriteEndArray();
        }
    }
}
