using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// Writes the body sent upstream: the caller's body unchanged except the fields policy rewrites — the model id
/// (aliases resolved to the upstream's id) and, for streams, <c>stream_options.include_usage: true</c> so the
/// provider always reports what it bills.
/// </summary>
public static class ModelRequestRewriter
{
    /// <summary>Writes the upstream body into <paramref name="output"/>.</summary>
    public static void Write(ModelRequest request, string upstreamModel, IBufferWriter<byte> output) =>
        Write(request, upstreamModel, null, 0, output);

    /// <summary>
    /// Writes the upstream body, also setting the output cap: <paramref name="capField"/> (the field the caller used,
    /// or the model's configured one) is set to <paramref name="cap"/>; the other cap field is not written.
    /// </summary>
    public static void Write(ModelRequest request, string upstreamModel, string? capField, long cap, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        writer.WriteStartObject();
        bool wroteStreamOptions = false;
        foreach (var property in request.Document.RootElement.EnumerateObject())
        {
            switch (property.Name)
            {
                case "model":
                    writer.WriteString("model", upstreamModel);
                    break;
                case "max_tokens" or "max_completion_tokens" when capField is not null:
                    break;
                case "stream_options" when request.Stream:
                    WriteStreamOptions(writer, property.Value);
                    wroteStreamOptions = true;
                    break;
                default:
                    property.WriteTo(writer);
                    break;
            }
        }

        if (request.Stream && !wroteStreamOptions)
        {
            WriteStreamOptions(writer, default);
        }

        if (capField is not null)
        {
            writer.WriteNumber(capField, cap);
        }

        writer.WriteEndObject();
    }

    private static void WriteStreamOptions(Utf8JsonWriter writer, JsonElement existing)
    {
        writer.WritePropertyName("stream_options");
        writer.WriteStartObject();
        if (existing.ValueKind == JsonValueKind.Object)
        {
            foreach (var option in existing.EnumerateObject())
            {
                if (option.Name != "include_usage")
                {
                    option.WriteTo(writer);
                }
            }
        }

        writer.WriteBoolean("include_usage", true);
        writer.WriteEndObject();
    }
}
