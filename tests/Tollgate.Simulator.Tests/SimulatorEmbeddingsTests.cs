using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Tokenization;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorEmbeddingsTests
{
    [Fact]
    public async Task Embeddings_StringInputs_DeterministicUnitVectorsPerInput()
    {
        using var host = new SimulatorTestHost(encodingForModel: _ => TokenEncoding.Cl100kBase);
        var body = new JsonObject { ["model"] = "text-embedding-3-small", ["input"] = new JsonArray("alpha", "beta", "alpha") };

        var reply = await host.PostJsonAsync("embeddings", body, "e1");

        Assert.Equal("list", reply.GetProperty("object").GetString());
        var data = reply.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(3, data.Count);
        var vectors = data.Select(item => item.GetProperty("embedding").EnumerateArray().Select(value => value.GetSingle()).ToArray()).ToList();
        Assert.All(vectors, vector => Assert.Equal(8, vector.Length));
        Assert.All(vectors, vector => Assert.Equal(1.0, Math.Sqrt(vector.Sum(value => (double)value * value)), 4));
        Assert.Equal(vectors[0], vectors[2]);
        Assert.NotEqual(vectors[0], vectors[1]);
        long expectedPrompt = SimulatorTestHost.CountText("alpha", TokenEncoding.Cl100kBase) * 2 + SimulatorTestHost.CountText("beta", TokenEncoding.Cl100kBase);
        Assert.Equal(expectedPrompt, reply.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(expectedPrompt, reply.GetProperty("usage").GetProperty("total_tokens").GetInt64());
        var bill = host.Engine.Billing.Find("e1")!;
        Assert.Equal(("embeddings", expectedPrompt, 0L, true), (bill.Endpoint, bill.PromptTokens, bill.CompletionTokens, bill.Completed));
    }

    [Fact]
    public async Task Embeddings_DimensionsAndBase64_EncodesThatManyFloats()
    {
        using var host = new SimulatorTestHost();
        var asFloats = new JsonObject { ["model"] = "e", ["input"] = "vector", ["dimensions"] = 16 };
        var asBase64 = new JsonObject { ["model"] = "e", ["input"] = "vector", ["dimensions"] = 16, ["encoding_format"] = "base64" };

        var floats = await host.PostJsonAsync("embeddings", asFloats);
        var base64 = await host.PostJsonAsync("embeddings", asBase64);

        float[] expected = floats.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(value => value.GetSingle()).ToArray();
        float[] decoded = MemoryMarshal.Cast<byte, float>(base64.GetProperty("data")[0].GetProperty("embedding").GetBytesFromBase64()).ToArray();
        Assert.Equal(16, expected.Length);
        Assert.Equal(expected, decoded);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("1")]
    [InlineData("{}")]
    [InlineData("\"hex\"")]
    public async Task Embeddings_EncodingFormatNotFloatOrBase64_Is400(string format)
    {
        using var host = new SimulatorTestHost();
        var body = JsonNode.Parse($$"""{"model":"e","input":"vector","encoding_format":{{format}}}""")!.AsObject();

        using var response = await host.PostAsync("embeddings", body);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("encoding_format", error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Embeddings_TokenArrays_CountedAsTokens()
    {
        using var host = new SimulatorTestHost();
        var body = JsonNode.Parse("""{"model":"e","input":[[1,2,3],[4,5]]}""")!.AsObject();

        var reply = await host.PostJsonAsync("embeddings", body);

        Assert.Equal(2, reply.GetProperty("data").GetArrayLength());
        Assert.Equal(5, reply.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
    }

    [Fact]
    public async Task Embeddings_RateLimitDirective_Returns429()
    {
        using var host = new SimulatorTestHost();

        using var response = await host.PostAsync("embeddings", new JsonObject { ["model"] = "e", ["input"] = "[[sim:rate_limit]]" });

        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").ValueKind);
    }
}
