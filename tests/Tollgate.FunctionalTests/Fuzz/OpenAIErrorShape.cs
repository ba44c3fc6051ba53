using System.Text.Json;

namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>Checks that a body is OpenAI's error shape: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class OpenAIErrorShape
{
    /// <summary>What is wrong with <paramref name="json"/> as an error body (null when nothing), and its type and code.</summary>
    public static string? Problem(string json, out string? type, out string? code)
    {
        type = null;
        code = null;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
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
            if (!error.TryGetProperty("param", out _) || !error.TryGetProperty("code", out var codeElement))
            {
                return "no param or code";
            }

            code = codeElement.ValueKind == JsonValueKind.String ? codeElement.GetString() : null;
            return null;
        }
        catch (JsonException)
        {
            return "not JSON";
        }
    }
}
