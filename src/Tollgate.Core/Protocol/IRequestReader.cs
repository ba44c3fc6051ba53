using Tollgate.Tokenization;

namespace Tollgate.Protocol;

/// <summary>
/// The caller side of a protocol, reading: turns one endpoint's request body into the neutral
/// <see cref="ModelRequest"/> policy works on, and knows which parts of it are input to count and text to inspect.
/// A new protocol (a new endpoint shape) is a new reader, plus a caller-side writer in the host and an endpoint mapping.
/// </summary>
public interface IRequestReader
{
    /// <summary>The endpoint this reader serves.</summary>
    ApiEndpoint Endpoint { get; }

    /// <summary>Parses and type-checks <paramref name="body"/>; on failure, <paramref name="refusal"/> is a 400 naming the field.</summary>
    bool TryRead(ReadOnlyMemory<byte> body, out ModelRequest? request, out GatewayError? refusal);

    /// <summary>
    /// The request's input tokens as the provider bills them. Counting may stop once the count passes
    /// <paramref name="stopAfter"/> (the result is then greater than it).
    /// </summary>
    long CountInput(ModelRequest request, TokenCounter counter, long stopAfter);

    /// <summary>Appends the text the caller sent (for input checks) to <paramref name="text"/>.</summary>
    void AppendInputText(ModelRequest request, InputTextBuffer text);
}
