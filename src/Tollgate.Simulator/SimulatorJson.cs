using System.Runtime.InteropServices;
using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>Writes the simulator's OpenAI-shaped JSON bodies straight to a <see cref="Utf8JsonWriter"/>.</summary>
internal static partial class SimulatorJson
{
    /// <summary>The body that <c>[[sim:garbage]]</c> sends with <c>content-type: application/json</c>.</summary>
    public static ReadOnlySpan<byte> Garbage => "<html>502 Bad Gateway (simulated garbage, not JSON)"u8;

    /// <summary>The model listed by <c>GET /v1/models</c>.</summary>
    public const string ListedModel = "tollgate-simulator";

    /// <summary><c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static void WriteError(Utf8JsonWriter json, SimulatorError error)
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", error.Message);
        json.WriteString("type", error.Type);
        WriteStringOrNull(json, "param", error.Param);
        WriteStringOrNull(json, "code", error.Code);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The body of <c>GET /v1/models</c>.</summary>
    public static void WriteModels(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        json.WriteStartObject();
        json.WriteString("id", ListedModel);
        json.WriteString("object", "model");
        json.WriteNumber("created", 0);
        json.WriteString("owned_by", "tollgate");
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>
    /// The body of an embeddings response: per input a unit vector of <see cref="SimulatorRequest.Dimensions"/>
    /// floats seeded by a stable hash of that input, as numbers or as base64 little-endian float32.
    /// </summary>
    public static void WriteEmbeddings(Utf8JsonWriter json, SimulatorCall call, bool includeUsage)
    {
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        var vector = new float[call.Request.Dimensions];
        for (int i = 0; i < call.Request.EmbeddingInputs.Count; i++)
        {
            FillVector(call.Request.EmbeddingInputs[i], vector);
            json.WriteStartObject();
            json.WriteString("object", "embedding");
            json.WriteNumber("index", i);
            if (call.Request.Base64)
            {
                json.WriteBase64String("embedding", MemoryMarshal.AsBytes(vector.AsSpan()));
            }
            else
            {
                json.WriteStartArray("embedding");
                foreach (float value in vector)
                {
                    json.WriteNumberValue(value);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("model", call.Request.Model);
        if (includeUsage)
        {
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", call.Plan.PromptTokens);
            json.WriteNumber("total_tokens", call.Plan.PromptTokens);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary><c>"usage":{…}</c> of a completion as planned.</summary>
    public static void WriteUsage(Utf8JsonWriter json, SimulatorPlan plan)
    {
        long completion = plan.CompletionTokens;
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", plan.PromptTokens);
        json.WriteNumber("completion_tokens", completion);
        json.WriteNumber("total_tokens", plan.PromptTokens + completion);
        json.WriteStartObject("prompt_tokens_details");
        json.WriteNumber("cached_tokens", plan.CachedTokens);
        json.WriteEndObject();
        json.WriteStartObject("completion_tokens_details");
        json.WriteNumber("reasoning_tokens", plan.ReasoningTokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void FillVector(string input, float[] vector)
    {
        var random = new SimulatorRandom(StableHash.Fnv1a(input));
        double sumOfSquares = 0;
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] = random.NextSignedUnit();
            sumOfSquares += vector[i] * vector[i];
        }

        float norm = sumOfSquares > 0 ? (float)Math.Sqrt(sumOfSquares) : 1;
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] /= norm;
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
