namespace Tollgate.Simulator;

/// <summary>The OpenAI and Anthropic routes the simulator serves.</summary>
internal enum SimulatorEndpointKind
{
    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    ChatCompletions,

    /// <summary><c>POST /v1/completions</c> (legacy).</summary>
    Completions,

    /// <summary><c>POST /v1/embeddings</c>.</summary>
    Embeddings,

    /// <summary><c>POST /v1/responses</c> (the Responses API).</summary>
    Responses,

    /// <summary><c>GET /v1/models</c>.</summary>
    Models,

    /// <summary><c>POST /v1/messages</c> (Anthropic Messages).</summary>
    Messages,

    /// <summary><c>POST /v1/messages/count_tokens</c> (Anthropic Messages).</summary>
    MessagesCountTokens,
}
