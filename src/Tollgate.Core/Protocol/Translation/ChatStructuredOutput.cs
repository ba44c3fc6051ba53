using System.Text.Json;

namespace Tollgate.Protocol.Translation;

/// <summary>
/// A chat caller's structured output (<c>response_format</c> of type <c>json_schema</c> or <c>json_object</c>) over
/// Anthropic's Messages, which has no such field: the schema is offered as the one tool the model must call
/// (<c>tool_choice</c> of that tool), and the call's input comes back as the message's <c>content</c>, with finish
/// reason <c>stop</c>, as the caller asked. The tool is named after <c>json_schema.name</c> (OpenAI's and Anthropic's
/// name rules are the same), or <see cref="DefaultName"/>. Not with the caller's own <c>tools</c>: forcing the one
/// tool would leave the model no choice of theirs.
/// </summary>
internal static class ChatStructuredOutput
{
    /// <summary>The tool's name for <c>json_object</c>, or a <c>json_schema</c> without a name.</summary>
    public const string DefaultName = "json_response";

    private const string Description = "Answer by calling this tool: its input is the whole answer, as JSON.";

    /// <summary>The name of the tool that carries <paramref name="root"/>'s structured output, or null when it asks for none.</summary>
    public static string? ToolName(JsonElement root)
    {
        if (!root.TryGetProperty("response_format", out var format) || format.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return TranslationJson.String(format, "type") switch
        {
            "json_object" => DefaultName,
            "json_schema" => format.TryGetProperty("json_schema", out var schema) && TranslationJson.String(schema, "name") is { Length: > 0 } name
                ? name
                : DefaultName,
            _ => null,
        };
    }

    /// <summary>The refusal of <paramref name="format"/> (the <c>response_format</c> of <paramref name="root"/>), or null.</summary>
    public static GatewayError? Check(JsonElement format, JsonElement root, Func<string, string, GatewayError> unsupported)
    {
        if (format.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidRequest("'response_format' must be an object.", "response_format");
        }

        string? type = TranslationJson.String(format, "type");
        if (type == "text")
        {
            return null;
        }

        if (type is not ("json_object" or "json_schema"))
        {
            return unsupported("response_format.type", "must be text, json_object or json_schema");
        }

        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
        {
            return unsupported("response_format", "is sent as a forced call of one tool, which cannot be combined with the caller's tools");
        }

        if (type == "json_object")
        {
            return null;
        }

        if (!format.TryGetProperty("json_schema", out var jsonSchema) || jsonSchema.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidRequest("'response_format.json_schema' must be an object.", "response_format.json_schema");
        }

        if (TranslationJson.String(jsonSchema, "name") is { } name && !IsToolName(name))
        {
            return GatewayError.InvalidRequest("'response_format.json_schema.name' must be 1 to 64 letters, digits, '_' or '-'.", "response_format.json_schema.name");
        }

        if (jsonSchema.TryGetProperty("schema", out var schema) && !TranslationJson.IsNull(schema)
            && !(schema.ValueKind == JsonValueKind.Object && TranslationJson.String(schema, "type") == "object"))
        {
            return unsupported("response_format.json_schema.schema", "must describe a JSON object (\"type\": \"object\"), as a tool's input does");
        }

        return null;
    }

    /// <summary>Writes the <c>tools</c> and <c>tool_choice</c> that carry <paramref name="root"/>'s structured output as <paramref name="name"/>.</summary>
    public static void WriteTool(Utf8JsonWriter writer, JsonElement root, string name)
    {
        var format = root.GetProperty("response_format");
        var jsonSchema = format.TryGetProperty("json_schema", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        writer.WriteStartArray("tools");
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("description", jsonSchema.ValueKind == JsonValueKind.Object && TranslationJson.String(jsonSchema, "description") is { } description
            ? description + " " + Description
            : Description);
        writer.WritePropertyName("input_schema");
        if (jsonSchema.ValueKind == JsonValueKind.Object && jsonSchema.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
        {
            schema.WriteTo(writer);
        }
        else
        {
            // json_object: any object.
            writer.WriteStartObject();
            writer.WriteString("type", "object");
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteStartObject("tool_choice");
        writer.WriteString("type", "tool");
        writer.WriteString("name", name);
        writer.WriteEndObject();
    }

    /// <summary>The chat finish reason of a Messages stop reason, when the answer carried structured output.</summary>
    public static string FinishReason(string? stopReason) => stopReason == "tool_use" ? "stop" : TranslationJson.FinishReason(stopReason);

    private static bool IsToolName(string name)
    {
        if (name.Length is 0 or > 64)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
