using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Caching;

/// <summary>
/// Requests whose answer depends on state the provider keeps, or on the outside world, are never cached: a hit would
/// skip the state change (a stored conversation, a stored completion) or serve a stale world (hosted search). The rule
/// is a check of the parsed request's fields, so it applies as is to the protocols that carry them (the OpenAI
/// Responses API) once their endpoints exist.
/// </summary>
public static class ResponseCacheEligibility
{
    /// <summary>The field that keeps <paramref name="request"/> out of the cache, or null when it may be cached.</summary>
    public static string? Exclusion(ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var root = request.Document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "body";
        }

        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            if (value.ValueKind is JsonValueKind.Null or JsonValueKind.False)
            {
                continue;
            }

            if (property.NameEquals("previous_response_id"u8) || property.NameEquals("conversation"u8)
                || property.NameEquals("background"u8) || property.NameEquals("store"u8)
                || property.NameEquals("web_search_options"u8)
                || (property.NameEquals("prompt"u8) && value.ValueKind == JsonValueKind.Object)
                || (property.NameEquals("tools"u8) && HasHostedTool(value)))
            {
                return property.Name;
            }
        }

        return null;
    }

    // A function (or custom) tool runs on the caller's side; any other type (web_search, file_search, code_interpreter,
    // mcp, image_generation, computer_use…) runs at the provider, on state or a world a stored answer does not capture.
    private static bool HasHostedTool(JsonElement tools)
    {
        if (tools.ValueKind != JsonValueKind.Array)
        {
            return true;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type"u8, out var type)
                || !(type.ValueEquals("function"u8) || type.ValueEquals("custom"u8)))
            {
                return true;
            }
        }

        return false;
    }
}
