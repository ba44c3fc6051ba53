namespace Tollgate.Protocol;

/// <summary>The model endpoints Tollgate serves.</summary>
public enum ApiEndpoint
{
    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    ChatCompletions,

    /// <summary><c>POST /v1/completions</c> (legacy).</summary>
    Completions,

    /// <summary><c>POST /v1/embeddings</c>.</summary>
    Embeddings,

    /// <summary><c>POST /v1/responses</c> (OpenAI's Responses API).</summary>
    Responses,
}

/// <summary>Names and paths of <see cref="ApiEndpoint"/> values.</summary>
public static class ApiEndpoints
{
    /// <summary>The audit name, e.g. <c>chat.completions</c>.</summary>
    public static string AuditName(this ApiEndpoint endpoint) => endpoint switch
    {
        ApiEndpoint.ChatCompletions => "chat.completions",
        ApiEndpoint.Completions => "completions",
        ApiEndpoint.Responses => "responses",
        _ => "embeddings",
    };

    /// <summary>The path relative to an upstream base URL, e.g. <c>chat/completions</c>.</summary>
    public static string RelativePath(this ApiEndpoint endpoint) => endpoint switch
    {
        ApiEndpoint.ChatCompletions => "chat/completions",
        ApiEndpoint.Completions => "completions",
        ApiEndpoint.Responses => "responses",
        _ => "embeddings",
    };
}
