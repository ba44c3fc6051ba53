using System.Text.Json;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>Checks that a body is Anthropic's error shape: <c>{"type":"error","error":{"type","message"}}</c>, nothing more.</summary>
internal static class AnthropicErrorShape
{
    private static readonly string[] s_types =
    [
        "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "request_too_large",
        "rate_limit_error", "api_error", "overloaded_error",
    ];

    /// <summary>What is wrong with <paramref name="json"/> as an error body (null when nothing), and its error type.</summary>
    public static string? Problem(string json, out string? type)
    {
        type = null;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var kind) || kind.ValueKind != JsonValueKind.String || kind.GetString() != "error")
            {
                return "no \"type\":\"error\"";
            }

            if (!root.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
            {
                return "no error object";
            }

            if (!error.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.String || message.GetString()!.Length == 0)
            {
                return "no message";
            }

            if (!error.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                return "no type";
            }

            type = typeElement.GetString();
            return Array.IndexOf(s_types, type) < 0 ? $"unknown error type '{type}'" : null;
        }
        catch (JsonException)
        {
            return "not JSON";
        }
    }
}
