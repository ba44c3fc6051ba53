using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Tollgate.Protocol.Translation;

namespace Tollgate.Protocol;

/// <summary>
/// A Responses API stream's final event (<c>response.completed</c>, <c>response.incomplete</c>,
/// <c>response.failed</c>) whose usage the upstream left out or made unreadable, given the bill's usage instead: the
/// event's <c>response.usage</c> is replaced by the usage object of the bill, with its cost and
/// <c>"estimated": true</c> when it is Tollgate's own count. Every other member's value is written back byte for byte.
/// </summary>
internal static class ResponsesFinalEvent
{
    /// <summary>
    /// The event <paramref name="data"/> with <paramref name="bill"/> as its response's usage, or null when
    /// <paramref name="data"/> is not an object holding a <c>response</c> object.
    /// </summary>
    public static byte[]? WithUsage(ReadOnlyMemory<byte> data, in TranslatedUsage bill)
    {
        JsonDocument document;
        try
        {
            // As deep as the stream's scanner reads: the event echoes the request's nested fields one level down.
            document = JsonDocument.Parse(data, new JsonDocumentOptions { MaxDepth = 128 });
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("response", out var response) || response.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var buffer = new ArrayBufferWriter<byte>(data.Length + 256);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                foreach (var member in root.EnumerateObject())
                {
                    if (!member.NameEquals("response"u8))
                    {
                        Copy(json, member);
                        continue;
                    }

                    json.WriteStartObject(member.Name);
                    foreach (var field in response.EnumerateObject())
                    {
                        if (!field.NameEquals("usage"u8))
                        {
                            Copy(json, field);
                        }
                    }

                    ResponsesObject.WriteUsage(json, bill);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }
    }

    // A member's value exactly as its bytes came (no string unescaped and escaped again).
    private static void Copy(Utf8JsonWriter json, JsonProperty member)
    {
        json.WritePropertyName(member.Name);
        json.WriteRawValue(JsonMarshal.GetRawUtf8Value(member.Value), skipInputValidation: true);
    }
}
