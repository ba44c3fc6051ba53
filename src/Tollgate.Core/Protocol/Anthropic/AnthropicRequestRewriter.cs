using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// Writes the Messages body sent upstream: the caller's bytes exactly as they came, except the model id (aliases
/// resolved), <c>max_tokens</c> when admission lowered it, and — when the lowered cap leaves no room for the caller's
/// thinking budget — <c>thinking.budget_tokens</c>, set just below the cap (admission makes sure that is at least
/// Anthropic's minimum). Unlike OpenAI, a stream always reports its usage: nothing is added for it.
/// </summary>
public static class AnthropicRequestRewriter
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>Writes the upstream body for <paramref name="request"/> into <paramref name="output"/>.</summary>
    public static void Write(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        ReadOnlySpan<byte> body = request.Body.Span;
        var root = request.Document.RootElement;
        bool capChanged = rewrite.CapField is not null;
        bool clampThinking = capChanged && request.ThinkingBudget is { } budget && budget >= rewrite.Cap;
        var edits = new List<(int Start, int Length, byte[] Replacement)>(3);
        foreach (var property in root.EnumerateObject())
        {
            ReadOnlySpan<byte> value = JsonMarshal.GetRawUtf8Value(property.Value);
            int start = ModelRequestRewriter.OffsetIn(body, value);
            if (property.NameEquals("model"u8) && !property.Value.ValueEquals(rewrite.Model))
            {
                edits.Add((start, value.Length, ModelRequestRewriter.JsonString(rewrite.Model)));
            }
            else if (capChanged && property.NameEquals("max_tokens"u8))
            {
                edits.Add((start, value.Length, ModelRequestRewriter.Number(rewrite.Cap)));
            }
            else if (clampThinking && property.NameEquals("thinking"u8))
            {
                edits.Add((start, value.Length, Thinking(property.Value, rewrite.Cap - 1)));
            }
        }

        edits.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        int at = 0;
        foreach (var (start, length, replacement) in edits)
        {
            output.Write(body[at..start]);
            output.Write(replacement);
            at = start + length;
        }

        output.Write(body[at..]);
    }

    private static byte[] Thinking(JsonElement thinking, long budget)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            foreach (var member in thinking.EnumerateObject())
            {
                if (member.NameEquals("budget_tokens"u8))
                {
                    writer.WriteNumber("budget_tokens", budget);
                }
                else
                {
                    member.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
