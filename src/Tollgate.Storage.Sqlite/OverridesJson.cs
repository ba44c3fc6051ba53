using System.Collections.ObjectModel;
using System.Text;
using System.Text.Json;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// A key's overrides as the column <c>api_keys.overrides</c> holds them: a JSON object of strings, or NULL for none.
/// Written with <see cref="Utf8JsonWriter"/> and read with <see cref="JsonDocument"/> (no reflection).
/// </summary>
internal static class OverridesJson
{
    /// <summary>The column value: NULL when there are no overrides.</summary>
    public static object ToDbValue(IReadOnlyDictionary<string, string>? overrides)
    {
        if (overrides is null || overrides.Count == 0)
        {
            return DBNull.Value;
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in overrides)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>Reads the column; null when it is NULL.</summary>
    /// <exception cref="InvalidDataException">The column does not hold a JSON object of strings.</exception>
    public static ReadOnlyDictionary<string, string>? Read(string? json, string keyId)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Malformed(keyId, null);
            }

            var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.String || !overrides.TryAdd(property.Name, property.Value.GetString()!))
                {
                    throw Malformed(keyId, null);
                }
            }

            return overrides.Count == 0 ? null : overrides.AsReadOnly();
        }
        catch (JsonException e)
        {
            throw Malformed(keyId, e);
        }
    }

    private static InvalidDataException Malformed(string keyId, Exception? inner) =>
        new($"The overrides of key {keyId} are not a JSON object of strings.", inner);
}
