using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.FunctionalTests.Infrastructure;
using Xunit;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Input that a prompt's text count does not see — a chat message's file and audio parts, parts of kinds the gateway
/// does not know, a completion's <c>suffix</c> — is reserved, counted high or refused, never admitted as free; and an
/// input refusal names the field that holds the input on each endpoint. The free plan caps the input at 4,000 tokens.
/// </summary>
public sealed class UncountedInputTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(c =>
    {
        c["Plans"]!["free"]!["Models"]!.AsArray().Add("sim-embed");
        c["Plans"]!["free"]!["RequestsPerMinute"] = 100;
        c["Models"]!["sim-large"]!["DocumentTokens"] = 3000;
        c["Plans"]!["free"]!["Models"]!.AsArray().Add("sim-large");
    });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    // About 20,000 tokens of text, well over the free plan's cap.
    private static readonly string s_long = string.Join(' ', Enumerable.Range(0, 20_000).Select(i => $"w{i * 7919 % 100_003}"));

    private static string Chat(string model, params JsonNode[] parts) => new JsonObject
    {
        ["model"] = model,
        ["max_tokens"] = 5,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new JsonArray(parts) }),
    }.ToJsonString();

    private static JsonObject Text(string text) => new() { ["type"] = "text", ["text"] = text };

    private static JsonObject FileById() => new() { ["type"] = "file", ["file"] = new JsonObject { ["file_id"] = "file-abc123" } };

    private async Task<HttpResponseMessage> PostAsync(string body, string path = "/v1/chat/completions") =>
        await _gateway.Http.SendAsync(ChatCompletionTests.Json(await _gateway.CreateKeyAsync(plan: "free"), body, path));

    private static async Task<(string? Code, string? Param)> ErrorOf(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        return (error.GetProperty("code").GetString(), error.TryGetProperty("param", out var p) ? p.GetString() : null);
    }

    [Fact]
    public async Task Chat_FilePartForAModelWithoutDocumentTokens_400ParamNotAllowed_NothingForwarded()
    {
        // A file referenced by id carries none of its content in the request: its tokens cannot be counted at all.
        using var response = await PostAsync(Chat("sim-mini", Text("Summarize the file."), FileById()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("param_not_allowed", "messages"), await ErrorOf(response));
        Assert.Empty(_gateway.Simulator.Billing.All);
    }

    [Fact]
    public async Task Chat_FileParts_ReservedAtTheModelsDocumentTokensEach()
    {
        // 3,000 tokens per document: one fits the free plan's 4,000-token input cap, two do not.
        using var one = await PostAsync(Chat("sim-large", Text("Summarize."), FileById()));
        using var two = await PostAsync(Chat("sim-large", Text("Compare."), FileById(), FileById()));

        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, two.StatusCode);
        Assert.Equal(("context_length_exceeded", "messages"), await ErrorOf(two));
        Assert.Single(_gateway.Simulator.Billing.All);
    }

    [Fact]
    public async Task Chat_InputAudioPart_400ParamNotAllowedNamingThePart()
    {
        var audio = new JsonObject { ["type"] = "input_audio", ["input_audio"] = new JsonObject { ["data"] = Convert.ToBase64String(new byte[3000]), ["format"] = "wav" } };

        using var response = await PostAsync(Chat("sim-mini", Text("Transcribe this."), audio));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("param_not_allowed", "messages[0].content[1]"), await ErrorOf(response));
        Assert.Empty(_gateway.Simulator.Billing.All);
    }

    [Fact]
    public async Task Chat_PartOfAnUnknownKind_CountedAsItsJson()
    {
        var unknown = new JsonObject { ["type"] = "x-attachment", ["payload"] = s_long };

        using var over = await PostAsync(Chat("sim-mini", Text("Read this."), unknown));
        using var small = await PostAsync(Chat("sim-mini", Text("Read this."), new JsonObject { ["type"] = "x-attachment", ["payload"] = "short" }));

        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        Assert.Equal(("context_length_exceeded", "messages"), await ErrorOf(over));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Fact]
    public async Task Completions_LongSuffix_CountedAsInput_RefusedNamingPrompt()
    {
        string body = new JsonObject { ["model"] = "sim-mini", ["max_tokens"] = 5, ["prompt"] = "def f():", ["suffix"] = s_long }.ToJsonString();

        using var response = await PostAsync(body, "/v1/completions");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("context_length_exceeded", "prompt"), await ErrorOf(response));
        Assert.Empty(_gateway.Simulator.Billing.All);
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"sim-mini","messages":[{"role":"user","content":"Answer."}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","description":"LONG"}}}}""")]
    [InlineData("/v1/responses", """{"model":"sim-mini","input":"Answer.","text":{"format":{"type":"json_schema","name":"x","schema":{"type":"object","description":"LONG"}}}}""")]
    [InlineData("/v1/chat/completions", """{"model":"sim-mini","messages":[{"role":"assistant","content":null,"refusal":"LONG"},{"role":"user","content":"Why?"}]}""")]
    public async Task StructuredOutputSchemaAndRefusal_CountedAsInput(string path, string template)
    {
        using var response = await PostAsync(template.Replace("LONG", s_long, StringComparison.Ordinal), path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("context_length_exceeded", (await ErrorOf(response)).Code);
        Assert.Empty(_gateway.Simulator.Billing.All);
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"sim-mini","messages":[{"role":"user","content":"LONG"}]}""", "messages")]
    [InlineData("/v1/completions", """{"model":"sim-mini","prompt":"LONG"}""", "prompt")]
    [InlineData("/v1/responses", """{"model":"sim-mini","input":"LONG"}""", "input")]
    [InlineData("/v1/embeddings", """{"model":"sim-embed","input":"LONG"}""", "input")]
    public async Task InputOverThePlansCap_RefusalNamesTheEndpointsInputField(string path, string template, string param)
    {
        using var response = await PostAsync(template.Replace("LONG", s_long, StringComparison.Ordinal), path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("context_length_exceeded", param), await ErrorOf(response));
    }
}
