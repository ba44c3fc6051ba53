using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// Which of OpenAI's whole answers the response cache may store: a JSON object that is not an error; for chat and
/// legacy completions at least one choice, every choice finished (<c>finish_reason</c> set) and none stopped by the
/// provider's content filter; for embeddings, a <c>data</c> array.
/// </summary>
public static class OpenAIStoredAnswers
{
    /// <summary>The <c>finish_reason</c> of a choice the provider's content filter stopped or withheld.</summary>
    public const string ContentFilter = "content_filter";

    /// <summary>Whether <paramref name="body"/>, a whole response to <paramref name="endpoint"/>, may be stored.</summary>
    public static bool IsStorable(ApiEndpoint endpoint, ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.TryGetProperty("error"u8, out _))
            {
                return false;
            }

            if (endpoint == ApiEndpoint.Embeddings)
            {
                return root.TryGetProperty("data"u8, out var data) && data.ValueKind == JsonValueKind.Array;
            }

            if (!root.TryGetProperty("choices"u8, out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                return false;
            }

            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind != JsonValueKind.Object || !choice.TryGetProperty("finish_reason"u8, out var finish)
                    || finish.ValueKind != JsonValueKind.String || finish.ValueEquals(ContentFilter))
                {
                    return false;
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
