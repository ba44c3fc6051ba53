using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// A parsed, type-checked model request: the fields policy reads, and the document it came from (rewritten and
/// forwarded later). Owns the pooled <see cref="JsonDocument"/>; dispose it when the request ends.
/// </summary>
public sealed class ModelRequest : IDisposable
{
    internal ModelRequest(ApiEndpoint endpoint, JsonDocument document, string model, bool stream, bool includeUsage,
        long? maxTokens, long? maxCompletionTokens, int n)
    {
        Endpoint = endpoint;
        Document = document;
        Model = model;
        Stream = stream;
        IncludeUsage = includeUsage;
        MaxTokens = maxTokens;
        MaxCompletionTokens = maxCompletionTokens;
        N = n;
    }

    /// <summary>Which endpoint it was sent to.</summary>
    public ApiEndpoint Endpoint { get; }

    /// <summary>The whole body.</summary>
    public JsonDocument Document { get; }

    /// <summary>The model the caller named.</summary>
    public string Model { get; }

    /// <summary>Whether the caller asked for a stream.</summary>
    public bool Stream { get; }

    /// <summary>Whether the caller asked for the usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; }

    /// <summary><c>max_tokens</c>, when present.</summary>
    public long? MaxTokens { get; }

    /// <summary><c>max_completion_tokens</c>, when present.</summary>
    public long? MaxCompletionTokens { get; }

    /// <summary>Choices requested (<c>n</c>, default 1).</summary>
    public int N { get; }

    /// <inheritdoc />
    public void Dispose() => Document.Dispose();
}
