using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// Assembles an OpenAI stream (<c>chat.completion.chunk</c> or legacy <c>text_completion</c> events) into the plain
/// answer the response cache stores: per choice, the role, the text of <c>content</c>, <c>refusal</c> and reasoning
/// joined (as the upstream escaped it, byte for byte), tool calls merged by index with their arguments joined, log-probabilities (chat) appended, and the finish
/// reason; the stream's id, creation time, model, fingerprint and service tier; its final usage. Anything it does not
/// understand (audio, a legacy <c>function_call</c>, legacy log-probabilities, an unknown delta field) makes the answer
/// one it will not store rather than one it stores wrong; so do an error event and a content-filtered choice.
/// </summary>
public sealed partial class OpenAIStreamAssembler : IStreamAnswerAssembler
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly bool _chat;
    private readonly int _maxBytes;
    private readonly SortedDictionary<int, Choice> _choices = [];
    private byte[]? _id;
    private byte[]? _created;
    private byte[]? _model;
    private byte[]? _fingerprint;
    private byte[]? _serviceTier;
    private byte[]? _usage;
    private long _bytes;
    private bool _failed;

    /// <summary>An assembler of a chat stream (<paramref name="chat"/>) or a legacy completion stream.</summary>
    /// <param name="chat">Whether the stream is <c>chat.completion.chunk</c> events.</param>
    /// <param name="maxBytes">The most the assembled answer may hold; past it, it is not stored.</param>
    public OpenAIStreamAssembler(bool chat, int maxBytes)
    {
        _chat = chat;
        _maxBytes = maxBytes;
    }

    /// <inheritdoc />
    public void Add(ReadOnlySpan<byte> data)
    {
        if (_failed)
        {
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(data, new JsonReaderOptions { MaxDepth = 128 });
            using var document = JsonDocument.ParseValue(ref reader);
            _failed = !Read(document.RootElement) || _bytes > _maxBytes;
        }
        catch (JsonException)
        {
            _failed = true;
        }
    }

    /// <inheritdoc />
    public byte[]? Finish()
    {
        if (_failed || _usage is null || _choices.Count == 0)
        {
            return null;
        }

        foreach (var choice in _choices.Values)
        {
            if (choice.FinishReason is null)
            {
                return null;
            }
        }

        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(_bytes + 512, _maxBytes + 1L));
        using (var json = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            Write(json);
        }

        return buffer.WrittenCount > _maxBytes ? null : buffer.WrittenSpan.ToArray();
    }

    private bool Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            if (property.NameEquals("error"u8))
            {
                return false;
            }

            if (property.NameEquals("choices"u8))
            {
                if (value.ValueKind != JsonValueKind.Array || !ReadChoices(value))
                {
                    return false;
                }
            }
            else if (property.NameEquals("usage"u8))
            {
                if (value.ValueKind == JsonValueKind.Object)
                {
                    _usage = Raw(value);
                }
                else if (value.ValueKind != JsonValueKind.Null)
                {
                    return false;
                }
            }
            else if (value.ValueKind != JsonValueKind.Null)
            {
                KeepFirst(property, value);
            }
        }

        return true;
    }

    // The stream's own fields, from the first event that carries them; unknown top-level fields (and "object",
    // rewritten) are left out.
    private void KeepFirst(JsonProperty property, JsonElement value)
    {
        if (property.NameEquals("id"u8))
        {
            _id ??= Raw(value);
        }
        else if (property.NameEquals("created"u8))
        {
            _created ??= Raw(value);
        }
        else if (property.NameEquals("model"u8))
        {
            _model ??= Raw(value);
        }
        else if (property.NameEquals("system_fingerprint"u8))
        {
            _fingerprint ??= Raw(value);
        }
        else if (property.NameEquals("service_tier"u8))
        {
            _serviceTier ??= Raw(value);
        }
    }

    private bool ReadChoices(JsonElement choices)
    {
        foreach (var item in choices.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("index"u8, out var indexElement)
                || !indexElement.TryGetInt32(out int index) || index is < 0 or > 1024)
            {
                return false;
            }

            if (!_choices.TryGetValue(index, out var choice))
            {
                choice = new Choice();
                _choices.Add(index, choice);
            }

            if (!(_chat ? ReadChatChoice(item, choice) : ReadTextChoice(item, choice)))
            {
                return false;
            }
        }

        return true;
    }

    private bool ReadFinish(JsonElement choice, Choice into)
    {
        if (!choice.TryGetProperty("finish_reason"u8, out var finish) || finish.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (finish.ValueKind != JsonValueKind.String || finish.ValueEquals(OpenAIStoredAnswers.ContentFilter))
        {
            return false;
        }

        into.FinishReason = Raw(finish);
        return true;
    }

    private bool ReadTextChoice(JsonElement item, Choice choice)
    {
        if (item.TryGetProperty("logprobs"u8, out var logprobs) && logprobs.ValueKind != JsonValueKind.Null)
        {
            return false;
        }

        if (item.TryGetProperty("text"u8, out var text))
        {
            if (text.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            Append(choice.Text("text"), text);
        }

        return ReadFinish(item, choice);
    }

    private byte[] Raw(JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        _bytes += raw.Length;
        return raw.ToArray();
    }

    // Text is joined as the upstream escaped it (the raw content between the quotes), so the stored answer holds the
    // upstream's own bytes: an escape is never split, as each piece is a whole JSON string.
    private void Append(ArrayBufferWriter<byte> text, JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        _bytes += raw.Length;
        text.Write(raw[1..^1]);
    }
}
