using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>
/// Writes a JSON value that fits a JSON schema (the subset that tool parameters and structured outputs use:
/// <c>type</c>, including a list of types; <c>properties</c>, <c>required</c>; <c>items</c>, <c>minItems</c>,
/// <c>maxItems</c>; <c>enum</c>, <c>const</c>; <c>minimum</c>/<c>maximum</c>; <c>minLength</c>/<c>maxLength</c>;
/// <c>anyOf</c>/<c>oneOf</c>/<c>allOf</c>; <c>$ref</c> into <c>$defs</c> or <c>definitions</c>), chosen from a seed so
/// the same request gets the same value. Strings are words of the simulator's vocabulary.
/// </summary>
internal static class SimulatorSchemaValue
{
    // Past this depth arrays are as short as they may be, so recursive schemas end; past twice it, values are minimal.
    private const int MaxDepth = 4;

    /// <summary>Writes a value fitting <paramref name="schema"/>; any object when the schema says nothing.</summary>
    public static void Write(Utf8JsonWriter json, JsonElement schema, ulong seed)
    {
        var random = new SimulatorRandom(seed);
        WriteValue(json, schema, schema, ref random, 0);
    }

    /// <summary>The compact JSON text of a value fitting <paramref name="schema"/>.</summary>
    public static string Generate(JsonElement schema, ulong seed)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, schema, seed);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteValue(Utf8JsonWriter json, JsonElement schema, JsonElement root, ref SimulatorRandom random, int depth)
    {
        if (schema.ValueKind == JsonValueKind.True || schema.ValueKind != JsonValueKind.Object)
        {
            json.WriteStartObject();
            json.WriteEndObject();
            return;
        }

        if (schema.TryGetProperty("$ref", out var reference) && reference.ValueKind == JsonValueKind.String
            && Resolve(root, reference.GetString()!) is { } target && depth < 4 * MaxDepth)
        {
            WriteValue(json, target, root, ref random, depth + 1);
            return;
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            constant.WriteTo(json);
            return;
        }

        if (schema.TryGetProperty("enum", out var options) && options.ValueKind == JsonValueKind.Array && options.GetArrayLength() > 0)
        {
            options[(int)(random.Next() % (ulong)options.GetArrayLength())].WriteTo(json);
            return;
        }

        foreach (string combinator in (ReadOnlySpan<string>)["anyOf", "oneOf"])
        {
            if (schema.TryGetProperty(combinator, out var alternatives) && alternatives.ValueKind == JsonValueKind.Array
                && FirstNotNull(alternatives) is { } alternative)
            {
                WriteValue(json, alternative, root, ref random, depth + 1);
                return;
            }
        }

        if (schema.TryGetProperty("allOf", out var all) && all.ValueKind == JsonValueKind.Array && all.GetArrayLength() > 0
            && !schema.TryGetProperty("properties", out _))
        {
            WriteValue(json, all[0], root, ref random, depth + 1);
            return;
        }

        switch (TypeOf(schema))
        {
            case "object":
                WriteObject(json, schema, root, ref random, depth);
                break;
            case "array":
                WriteArray(json, schema, root, ref random, depth);
                break;
            case "string":
                json.WriteStringValue(Words(schema, ref random));
                break;
            case "integer":
                json.WriteNumberValue(Integer(schema, ref random));
                break;
            case "number":
                json.WriteNumberValue(Integer(schema, ref random) + 0.5m);
                break;
            case "boolean":
                json.WriteBooleanValue((random.Next() & 1) == 0);
                break;
            case "null":
                json.WriteNullValue();
                break;
            default:
                WriteObject(json, schema, root, ref random, depth);
                break;
        }
    }

    private static void WriteObject(Utf8JsonWriter json, JsonElement schema, JsonElement root, ref SimulatorRandom random, int depth)
    {
        json.WriteStartObject();
        if (depth < 4 * MaxDepth && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            // Every declared property: strict schemas require them all, and the others allow them.
            foreach (var property in properties.EnumerateObject())
            {
                json.WritePropertyName(property.Name);
                WriteValue(json, property.Value, root, ref random, depth + 1);
            }
        }

        json.WriteEndObject();
    }

    private static void WriteArray(Utf8JsonWriter json, JsonElement schema, JsonElement root, ref SimulatorRandom random, int depth)
    {
        int min = Count(schema, "minItems") ?? (depth >= MaxDepth ? 0 : 1);
        int max = Math.Max(min, Count(schema, "maxItems") ?? Math.Max(min, 3));
        int length = depth >= MaxDepth ? min : min + (int)(random.Next() % (ulong)(max - min + 1));
        json.WriteStartArray();
        schema.TryGetProperty("items", out var items);
        for (int i = 0; i < length; i++)
        {
            WriteValue(json, items, root, ref random, depth + 1);
        }

        json.WriteEndArray();
    }

    private static string Words(JsonElement schema, ref SimulatorRandom random)
    {
        int minLength = Count(schema, "minLength") ?? 0;
        int maxLength = Count(schema, "maxLength") ?? int.MaxValue;
        var text = new System.Text.StringBuilder();
        int words = 1 + (int)(random.Next() % 3);
        for (int i = 0; i < words || text.Length < minLength; i++)
        {
            text.Append(SimulatorVocabulary.Pick(random.Next()));
        }

        string value = text.ToString().TrimStart();
        return value.Length > maxLength ? value[..maxLength] : value;
    }

    private static long Integer(JsonElement schema, ref SimulatorRandom random)
    {
        long min = Bound(schema, "minimum") ?? (Bound(schema, "exclusiveMinimum") + 1) ?? 0;
        long max = Bound(schema, "maximum") ?? (Bound(schema, "exclusiveMaximum") - 1) ?? Math.Max(min, 0) + 100;
        if (max < min)
        {
            return min;
        }

        ulong span = (ulong)(max - min) + 1;
        return span == 0 ? min : min + (long)(random.Next() % span);
    }

    private static long? Bound(JsonElement schema, string name) =>
        schema.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? (long)Math.Clamp(Math.Ceiling(value.GetDouble()), -1e15, 1e15)
            : null;

    private static int? Count(JsonElement schema, string name) =>
        schema.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n >= 0
            ? Math.Min(n, 64)
            : null;

    // "type" as a string, or the first non-null entry of a list of types; inferred from the keywords when absent.
    private static string? TypeOf(JsonElement schema)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            if (type.ValueKind == JsonValueKind.String)
            {
                return type.GetString();
            }

            if (type.ValueKind == JsonValueKind.Array)
            {
                string? fallback = null;
                foreach (var entry in type.EnumerateArray())
                {
                    if (entry.ValueKind == JsonValueKind.String)
                    {
                        if (!entry.ValueEquals("null"))
                        {
                            return entry.GetString();
                        }

                        fallback = "null";
                    }
                }

                return fallback;
            }
        }

        return schema.TryGetProperty("items", out _) ? "array" : "object";
    }

    private static JsonElement? FirstNotNull(JsonElement alternatives)
    {
        JsonElement? first = null;
        foreach (var alternative in alternatives.EnumerateArray())
        {
            first ??= alternative;
            if (!(alternative.ValueKind == JsonValueKind.Object && alternative.TryGetProperty("type", out var t)
                && t.ValueKind == JsonValueKind.String && t.ValueEquals("null")))
            {
                return alternative;
            }
        }

        return first;
    }

    private static JsonElement? Resolve(JsonElement root, string reference)
    {
        if (reference == "#")
        {
            return root;
        }

        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            return null;
        }

        var current = root;
        foreach (string part in reference[2..].Split('/'))
        {
            string name = part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
            {
                return null;
            }
        }

        return current;
    }
}
