using System.Globalization;
using System.Text.Json;
using Tollgate.Identity;

namespace Tollgate.Cli;

/// <summary>Writes keys as JSON and text. Key material appears only in the output of create, import and rotate.</summary>
internal static class KeyJson
{
    public static void Write(Utf8JsonWriter writer, ApiKeyRecord key, string? secret)
    {
        writer.WriteStartObject();
        writer.WriteString("id", key.Id);
        if (secret is not null)
        {
            writer.WriteString("key", secret);
        }

        writer.WriteString("name", key.Name);
        writer.WriteString("tenant", key.Tenant);
        writer.WriteString("user", key.User);
        writer.WriteString("plan", key.Plan);
        writer.WriteString("created_at", key.CreatedAt);
        WriteTime(writer, "expires_at", key.ExpiresAt);
        WriteTime(writer, "revoked_at", key.RevokedAt);
        WriteTime(writer, "rotated_at", key.RotatedAt);
        writer.WriteString("status", Status(key, DateTimeOffset.MaxValue));
        writer.WriteStartObject("limits");
        if (key.Overrides is { } overrides)
        {
            foreach (var (name, value) in KeyLimits.Sorted(overrides))
            {
                writer.WriteString(name, value);
            }
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static string ToJson(IEnumerable<(ApiKeyRecord Key, string? Secret)> keys, bool array)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            if (array)
            {
                writer.WriteStartArray();
            }

            foreach (var (key, secret) in keys)
            {
                Write(writer, key, secret);
            }

            if (array)
            {
                writer.WriteEndArray();
            }
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public static string Text(ApiKeyRecord key, DateTimeOffset now)
    {
        string expires = key.ExpiresAt is { } e ? e.ToString("  'expires='yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "";
        string name = key.Name is { } n ? "  name=" + n : "";
        string limits = key.Overrides is { Count: > 0 } o ? "  limits=" + KeyLimits.Format(o, ",") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{key.Id}  tenant={key.Tenant}  user={key.User}  plan={key.Plan}  status={Status(key, now)}  created={key.CreatedAt:yyyy-MM-dd}{expires}{limits}{name}");
    }

    private static string Status(ApiKeyRecord key, DateTimeOffset now) =>
        key.RevokedAt is not null ? "revoked" : key.ExpiresAt <= now ? "expired" : "active";

    private static void WriteTime(Utf8JsonWriter writer, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            writer.WriteString(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
