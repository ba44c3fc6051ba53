using System.Text.Json;

namespace Tollgate.Benchmarks.Inputs;

/// <summary>Chat completion request bodies as a caller would send them.</summary>
public static class ChatBodies
{
    /// <summary>
    /// A body of about <paramref name="totalChars"/> characters of message content: messages of
    /// <paramref name="messageChars"/> characters each, their content cycling through prose, random letters,
    /// random Unicode and base64.
    /// </summary>
    public static JsonDocument Mixed(int totalChars, int messageChars)
    {
        TextShape[] cycle = [TextShape.Prose, TextShape.Letters, TextShape.Unicode, TextShape.Base64];
        string[] roles = ["system", "user", "assistant", "user"];

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", "gpt-4o-mini");
            writer.WriteStartArray("messages");
            for (int i = 0; i * messageChars < totalChars; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("role", roles[i % roles.Length]);
                writer.WriteString("content", SampleText.Create(cycle[i % cycle.Length], messageChars, seed: i));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.ToArray());
    }

    /// <summary>
    /// A body of about <paramref name="totalChars"/> characters of message content, all of <paramref name="shape"/>:
    /// messages of <paramref name="messageChars"/> characters each.
    /// </summary>
    public static JsonDocument OfShape(TextShape shape, int totalChars, int messageChars)
    {
        string[] roles = ["system", "user", "assistant", "user"];
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", "gpt-4o-mini");
            writer.WriteStartArray("messages");
            for (int i = 0; i * messageChars < totalChars; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("role", roles[i % roles.Length]);
                writer.WriteString("content", SampleText.Create(shape, messageChars, seed: i));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.ToArray());
    }
}
