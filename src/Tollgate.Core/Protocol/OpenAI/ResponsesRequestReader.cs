using System.Text.Json;
using Tollgate.Tokenization;

namespace Tollgate.Protocol;

/// <summary>
/// Reads OpenAI's Responses API requests (<c>POST /v1/responses</c>, <see cref="ResponsesRequestParser"/>): the
/// output cap is <c>max_output_tokens</c>; the input is the <c>instructions</c>, the <c>input</c> items and the
/// function tools, counted as chat messages are (<see cref="PromptTokenCounter.CountResponses"/>).
/// </summary>
public sealed class ResponsesRequestReader : IRequestReader
{
    private ResponsesRequestReader()
    {
    }

    /// <summary>The one instance (the reader holds no state).</summary>
    public static ResponsesRequestReader Instance { get; } = new();

    /// <inheritdoc />
    public ApiEndpoint Endpoint => ApiEndpoint.Responses;

    /// <inheritdoc />
    public bool TryRead(ReadOnlyMemory<byte> body, out ModelRequest? request, out GatewayError? refusal) =>
        ModelRequestParser.TryParse(body, ApiEndpoint.Responses, out request, out refusal);

    /// <inheritdoc />
    public long CountInput(ModelRequest request, TokenCounter counter, long stopAfter) =>
        Pricing.Saturating.Add(PromptTokenCounter.CountResponses(request.Document.RootElement, counter, stopAfter), request.HiddenInputTokens);

    /// <inheritdoc />
    public void AppendInputText(ModelRequest request, InputTextBuffer text)
    {
        var root = request.Document.RootElement;
        if (root.TryGetProperty("instructions", out var instructions))
        {
            Append(text, instructions);
        }

        if (root.TryGetProperty("input", out var input))
        {
            Append(text, input);
        }
    }

    private static void Append(InputTextBuffer text, JsonElement value)
    {
        if (text.IsFull)
        {
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                text.AppendLine(value);
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    Append(text, item);
                }

                break;
            case JsonValueKind.Object:
                foreach (string name in (ReadOnlySpan<string>)["content", "text", "output", "arguments"])
                {
                    if (value.TryGetProperty(name, out var inner))
                    {
                        Append(text, inner);
                    }
                }

                break;
            default:
                break;
        }
    }
}
