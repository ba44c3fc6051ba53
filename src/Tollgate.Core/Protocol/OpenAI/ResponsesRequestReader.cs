using System.Text;
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
    public string InputText(ModelRequest request, int maxChars)
    {
        var root = request.Document.RootElement;
        var text = new StringBuilder();
        if (root.TryGetProperty("instructions", out var instructions))
        {
            Append(text, instructions, maxChars);
        }

        if (root.TryGetProperty("input", out var input))
        {
            Append(text, input, maxChars);
        }

        return text.Length <= maxChars ? text.ToString() : text.ToString(0, maxChars);
    }

    private static void Append(StringBuilder text, JsonElement value, int maxChars)
    {
        if (text.Length >= maxChars)
        {
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                text.Append(value.GetString()).Append('\n');
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    Append(text, item, maxChars);
                }

                break;
            case JsonValueKind.Object:
                foreach (string name in (ReadOnlySpan<string>)["content", "text", "output", "arguments"])
                {
                    if (value.TryGetProperty(name, out var inner))
                    {
                        Append(text, inner, maxChars);
                    }
                }

                break;
            default:
                break;
        }
    }
}
