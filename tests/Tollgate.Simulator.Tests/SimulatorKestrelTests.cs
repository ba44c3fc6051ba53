using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Configuration;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorKestrelTests : IAsyncLifetime
{
    private readonly SimulatorEngine _engine = new(TimeProvider.System, new SimulatorLatencyOptions());
    private WebApplication? _app;
    private HttpClient _client = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapSimulator(_engine);
        await _app.StartAsync();
        string address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Kestrel_ChatCompletion_SameReplyAsInProcess()
    {
        using var host = new SimulatorTestHost();
        var inProcess = await host.PostJsonAsync("chat/completions", SimulatorTestHost.Chat("over the wire"));

        using var response = await PostAsync("/v1/chat/completions", SimulatorTestHost.Chat("over the wire"), "k1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("req_sim_", Assert.Single(response.Headers.GetValues("x-request-id")), StringComparison.Ordinal);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(inProcess.GetProperty("choices").GetRawText(), document.RootElement.GetProperty("choices").GetRawText());
        Assert.Equal(inProcess.GetProperty("usage").GetRawText(), document.RootElement.GetProperty("usage").GetRawText());
    }

    [Fact]
    public async Task Kestrel_Stream_ChunksUsageAndDone()
    {
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Chat("[[sim:tokens=4]]"), includeUsage: true);

        using var response = await PostAsync("/v1/chat/completions", body, completion: HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var events = await reader.ReadAllAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal(4, SseReader.Parse(events)[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt64());
    }

    [Fact]
    public async Task Kestrel_CutStream_ClientReadFails()
    {
        var body = SimulatorTestHost.Streaming(SimulatorTestHost.Chat("[[sim:cut=2]]"), includeUsage: true);

        using var response = await PostAsync("/v1/chat/completions", body, "kcut", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());

        var events = new List<string>();

        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            while (await reader.ReadEventAsync() is { } data)
            {
                events.Add(data);
            }
        });
        Assert.Equal(3, events.Count);
        Assert.Equal((2L, false), (_engine.Billing.Find("kcut")!.CompletionTokens, _engine.Billing.Find("kcut")!.Completed));
    }

    [Fact]
    public async Task Kestrel_CutNonStream_HalfTheBodyThenTheReadFails()
    {
        using var response = await PostAsync("/v1/chat/completions", SimulatorTestHost.Chat("[[sim:cut=1]]"), completion: HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var received = new MemoryStream();

        await Assert.ThrowsAnyAsync<IOException>(() => stream.CopyToAsync(received));
        Assert.Equal(response.Content.Headers.ContentLength / 2, received.Length);
    }

    [Fact]
    public async Task Kestrel_RateLimit_Returns429WithRetryAfter()
    {
        using var response = await PostAsync("/v1/chat/completions", SimulatorTestHost.Chat("[[sim:rate_limit]]"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Kestrel_ControlRoutes_HeldReleaseAndBills()
    {
        var held = PostAsync("/v1/chat/completions", SimulatorTestHost.Chat("[[sim:hold=wire]] [[sim:tokens=3]]"), "kheld");
        await _engine.Barrier.WaitForWaitingAsync("wire", 1, SimulatorTestHost.Timeout);

        Assert.Equal(1, (await _client.GetFromJsonAsync<JsonObject>("/_simulator/held/wire"))!["waiting"]!.GetValue<int>());
        using (var release = await _client.PostAsync("/_simulator/release/wire", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        }

        using var response = await held;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bills = await _client.GetFromJsonAsync<JsonArray>("/_simulator/bills");
        var bill = Assert.Single(bills!)!.AsObject();
        Assert.Equal("kheld", bill["clientRequestId"]!.GetValue<string>());
        Assert.Equal(3, bill["completionTokens"]!.GetValue<long>());
        var one = await _client.GetFromJsonAsync<JsonObject>("/_simulator/bills/kheld");
        Assert.Equal(bill.ToJsonString(), one!.ToJsonString());
        using var missing = await _client.GetAsync("/_simulator/bills/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private Task<HttpResponseMessage> PostAsync(
        string path,
        JsonObject body,
        string? clientRequestId = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (clientRequestId is not null)
        {
            request.Headers.Add("x-client-request-id", clientRequestId);
        }

        return _client.SendAsync(request, completion);
    }
}
