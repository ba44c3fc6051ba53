using System.Text.Json;
using Tollgate.Audit;

namespace Tollgate.Background;

/// <summary>
/// The <c>status</c> of a Responses API response object: <c>queued</c> and <c>in_progress</c> while a background
/// response runs; <c>completed</c>, <c>incomplete</c>, <c>failed</c> or <c>cancelled</c> once it has ended, when its
/// usage is final.
/// </summary>
internal static class BackgroundStatus
{
    public const string Queued = "queued";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Incomplete = "incomplete";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>The top-level <c>status</c> of a response body, or null when it has none (or is not a JSON object).</summary>
    public static string? Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool status = reader.ValueTextEquals("status"u8);
                reader.Read();
                if (status)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not JSON: no status.
        }

        return null;
    }

    /// <summary>Whether <paramref name="status"/> is one a response is still running in.</summary>
    public static bool IsRunning(string? status) => status is Queued or InProgress;

    /// <summary>Whether <paramref name="status"/> is one a response has ended in (its usage is final).</summary>
    public static bool IsEnded(string? status) => status is Completed or Incomplete or Failed or Cancelled;

    /// <summary>The audit reason of a background response that ended in <paramref name="status"/>.</summary>
    public static string ReasonFor(string status) => status switch
    {
        Failed => AuditReasons.BackgroundFailed,
        Cancelled => AuditReasons.BackgroundCancelled,
        _ => AuditReasons.Ok,
    };
}
