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

    /// <summary><c>POST /v1/messages</c> (Anthropic Messages).</summary>
    Messages,

    /// <summary><c>POST /v1/messages/count_tokens</c> (Anthropic Messages).</summary>
    MessagesCountTokens,

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
        ApiEndpoint.Messages => "messages",
        ApiEndpoint.MessagesCountTokens => "messages.count_tokens",
        ApiEndpoint.Responses => "responses",
        _ => "embeddings",
    };

    /// <summary>The path relative to an upstream base URL, e.g. <c>chat/completions</c>.</summary>
    public static string RelativePath(this ApiEndpoint endpoint) => endpoint switch
    {
        ApiEndpoint.ChatCompletions => "chat/completions",
        ApiEndpoint.Completions => "completions",
        ApiEndpoint.Messages => "messages",
        ApiEndpoint.MessagesCountTokens => "messages/count_tokens",
        ApiEndpoint.Responses => "responses",
        _ => "embeddings",
    };

    /// <summary>
    /// The request field that holds the input, which an error about the input names: <c>messages</c>, <c>prompt</c>
    /// (legacy completions) or <c>input</c> (embeddings and the Responses API).
    /// </summary>
    public static string InputField(this ApiEndpoint endpoint) => endpoint switch
    {
        ApiEndpoint.Completions => "prompt",
        ApiEndpoint.Embeddings or ApiEndpoint.Responses => "input",
        _ => "messages",
    };

    /// <summary>Whether <paramref name="endpoint"/> is one of Anthropic's Messages API.</summary>
    public static bool IsMessages(this ApiEndpoint endpoint) => endpoint is ApiEndpoint.Messages or ApiEndpoint.MessagesCountTokens;
}
