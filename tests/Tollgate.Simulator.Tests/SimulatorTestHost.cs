using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Configuration;
using Tollgate.Tokenization;

namespace Tollgate.Simulator.Tests;

/// <summary>A simulator served in process through <see cref="SimulatorEngine.CreateHandler"/>, with request helpers.</summary>
internal sealed class SimulatorTestHost : IDisposable
{
    public SimulatorTestHost(SimulatorLatencyOptions? latency = null, Func<string, string?>? encodingForModel = null)
    {
        Engine = new SimulatorEngine(Time, latency ?? new SimulatorLatencyOptions(), encodingForModel);
        Client = new HttpClient(Engine.CreateHandler()) { BaseAddress = new Uri("http://simulator/v1/") };
    }

    /// <summary>A token that ends a test stuck for more than ten seconds (real time: a failure, not a wait).</summary>
    public static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token;

    public ObservableTimeProvider Time { get; } = new();

    public SimulatorEngine Engine { get; }

    public HttpClient Client { get; }

    public static JsonObject Chat(string content, string model = "gpt-4o-mini") => new()
    {
        ["model"] = model,
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = "You are terse." },
            new JsonObject { ["role"] = "user", ["content"] = content }),
    };

    public static JsonObject Completion(string prompt, string model = "gpt-3.5-turbo-instruct") => new()
    {
        ["model"] = model,
        ["prompt"] = prompt,
    };

    public static JsonObject Streaming(JsonObject body, bool includeUsage)
    {
        body["stream"] = true;
        if (includeUsage)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return body;
    }

    public static long CountChat(JsonObject body, string encoding = TokenEncoding.O200kBase)
    {
        using var document = JsonDocument.Parse(body.ToJsonString());
        return PromptTokenCounter.CountChat(document.RootElement, TokenCounterRegistry.Shared.Get(encoding));
    }

    public static int CountText(string text, string encoding = TokenEncoding.O200kBase) =>
        TokenCounterRegistry.Shared.Get(encoding).Count(text);

    public Task<HttpResponseMessage> PostAsync(
        string path,
        JsonObject body,
        string? clientRequestId = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead,
        CancellationToken cancellationToken = default) =>
        PostRawAsync(path, body.ToJsonString(), clientRequestId, completion, cancellationToken);

    public Task<HttpResponseMessage> PostRawAsync(
        string path,
        string body,
        string? clientRequestId = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead,
        CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        if (clientRequestId is not null)
        {
            request.Headers.Add("x-client-request-id", clientRequestId);
        }

        return Client.SendAsync(request, completion, cancellationToken);
    }

    public async Task<JsonElement> PostJsonAsync(string path, JsonObject body, string? clientRequestId = null)
    {
        using var response = await PostAsync(path, body, clientRequestId);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    public void Dispose() => Client.Dispose();
}
