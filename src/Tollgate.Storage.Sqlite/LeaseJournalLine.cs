using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.Pricing;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// One line of the lease journal (<see cref="LeaseJournal"/>): a JSON object and a line feed. Kind <c>"l"</c> is a
/// lease, kind <c>"b"</c> notes the background response a lease holds the reservation of.
/// </summary>
internal static class LeaseJournalLine
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>Appends the line of <paramref name="lease"/> (its background response id included, when set).</summary>
    public static void WriteLease(IBufferWriter<byte> output, ReservationLease lease)
    {
        using (var json = new Utf8JsonWriter(output, s_writerOptions))
        {
            json.WriteStartObject();
            json.WriteString("k"u8, "l"u8);
            json.WriteString("id"u8, lease.Id);
            json.WriteNumber("ts"u8, UnixTime.ToMilliseconds(lease.Timestamp));
            json.WriteString("request_id"u8, lease.RequestId);
            json.WriteString("endpoint"u8, lease.Endpoint);
            json.WriteString("key_id"u8, lease.KeyId);
            json.WriteString("tenant"u8, lease.Tenant);
            json.WriteString("user"u8, lease.User);
            json.WriteString("model"u8, lease.Model);
            json.WriteString("upstream"u8, lease.Upstream);
            WriteOptional(json, "task"u8, lease.Task);
            WriteOptional(json, "source_address"u8, lease.SourceAddress);
            json.WriteNumber("input"u8, lease.Usage.InputTokens);
            json.WriteNumber("cached"u8, lease.Usage.CachedInputTokens);
            json.WriteNumber("output"u8, lease.Usage.OutputTokens);
            json.WriteNumber("reasoning"u8, lease.Usage.ReasoningTokens);
            json.WriteNumber("tool_calls"u8, lease.Usage.ToolCalls);
            json.WriteNumber("cost"u8, lease.CostNanos);
            json.WriteNumber("tool_fee"u8, lease.ToolFeeNanos);
            WriteOptional(json, "background"u8, lease.BackgroundResponseId);
            json.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>Appends the line noting that lease <paramref name="leaseId"/> holds background response <paramref name="responseId"/>.</summary>
    public static void WriteBackground(IBufferWriter<byte> output, string leaseId, string responseId)
    {
        using (var json = new Utf8JsonWriter(output, s_writerOptions))
        {
            json.WriteStartObject();
            json.WriteString("k"u8, "b"u8);
            json.WriteString("id"u8, leaseId);
            json.WriteString("background"u8, responseId);
            json.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>
    /// Applies one line to <paramref name="leases"/>; false when it is not a whole line of the journal (the last line
    /// of a file whose writer was killed mid-write, never acknowledged to its caller).
    /// </summary>
    public static bool TryApply(ReadOnlySpan<byte> line, Dictionary<string, ReservationLease> leases)
    {
        try
        {
            using var document = JsonDocument.Parse(line.ToArray());
            var root = document.RootElement;
            string id = root.GetProperty("id").GetString()!;
            switch (root.GetProperty("k").GetString())
            {
                case "l":
                    leases[id] = Read(root, id);
                    return true;
                case "b":
                    if (leases.TryGetValue(id, out var lease))
                    {
                        leases[id] = lease with { BackgroundResponseId = root.GetProperty("background").GetString() };
                    }

                    return true;
                default:
                    return false;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    private static ReservationLease Read(JsonElement root, string id) => new()
    {
        Id = id,
        Timestamp = UnixTime.FromMilliseconds(root.GetProperty("ts").GetInt64()),
        RequestId = root.GetProperty("request_id").GetString()!,
        Endpoint = root.GetProperty("endpoint").GetString()!,
        KeyId = root.GetProperty("key_id").GetString()!,
        Tenant = root.GetProperty("tenant").GetString()!,
        User = root.GetProperty("user").GetString()!,
        Model = root.GetProperty("model").GetString()!,
        Upstream = root.GetProperty("upstream").GetString()!,
        Task = Optional(root, "task"),
        SourceAddress = Optional(root, "source_address"),
        Usage = new TokenUsage(root.GetProperty("input").GetInt64(), root.GetProperty("cached").GetInt64(), root.GetProperty("output").GetInt64(),
            root.GetProperty("reasoning").GetInt64())
        {
            ToolCalls = root.GetProperty("tool_calls").GetInt64(),
        },
        CostNanos = root.GetProperty("cost").GetInt64(),
        ToolFeeNanos = root.GetProperty("tool_fee").GetInt64(),
        BackgroundResponseId = Optional(root, "background"),
    };

    private static void WriteOptional(Utf8JsonWriter json, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static string? Optional(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
