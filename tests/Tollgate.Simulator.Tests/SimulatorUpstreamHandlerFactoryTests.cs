using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Configuration;
using Tollgate.Tokenization;
using Tollgate.Upstreams;

namespace Tollgate.Simulator.Tests;

public sealed class SimulatorUpstreamHandlerFactoryTests
{
    private const string Prompt = "Tollgate bounds consumption: ünïcødé, 😀, 12345678 and ((nested)) {braces}.";

    [Fact]
    public void AddTollgateSimulator_CalledTwice_RegistersTheSimulatorKindOnce()
    {
        using var services = new ServiceCollection()
            .AddSingleton<IGatewayConfigSource>(new FixedConfig(Config()))
            .AddTollgateSimulator()
            .AddTollgateSimulator()
            .BuildServiceProvider();

        var factory = Assert.Single(services.GetServices<IUpstreamHandlerFactory>());

        Assert.Equal(UpstreamKinds.Simulator, factory.Kind);
        Assert.Same(services.GetRequiredService<SimulatorUpstreamHandlerFactory>(), factory);
    }

    [Fact]
    public void Engine_SameUpstream_OneEngineForTheProcess()
    {
        var factory = new SimulatorUpstreamHandlerFactory(TimeProvider.System, new FixedConfig(Config()));

        Assert.Same(factory.Engine("sim"), factory.Engine("sim"));
        Assert.NotSame(factory.Engine("sim"), factory.Engine("other"));
    }

    [Theory]
    [InlineData("sim-cl100k", TokenEncoding.Cl100kBase)]
    [InlineData("model-approx", TokenEncoding.Cl100kBase)]
    [InlineData("sim-o200k", TokenEncoding.O200kBase)]
    [InlineData("not-configured", TokenEncoding.O200kBase)]
    public async Task CreateHandler_ModelOfTheConfig_CountsWithItsEncoding(string model, string encoding)
    {
        var factory = new SimulatorUpstreamHandlerFactory(TimeProvider.System, new FixedConfig(Config()));
        using var client = new HttpClient(factory.CreateHandler("sim", Config().Options.Upstreams["sim"]))
        {
            BaseAddress = factory.GetBaseAddress("sim", Config().Options.Upstreams["sim"]),
        };
        var body = SimulatorTestHost.Chat(Prompt, model);
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-client-request-id", "r1");

        using var response = await client.SendAsync(request);

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal(SimulatorTestHost.CountChat(body, encoding), factory.Engine("sim").Billing.Find("r1")!.PromptTokens);
    }

    [Fact]
    public void CountChat_TestPrompt_DiffersBetweenTheEncodings()
    {
        // Otherwise the encoding test above could not tell the encodings apart.
        var body = SimulatorTestHost.Chat(Prompt);

        Assert.NotEqual(SimulatorTestHost.CountChat(body, TokenEncoding.O200kBase), SimulatorTestHost.CountChat(body, TokenEncoding.Cl100kBase));
    }

    private static GatewayConfig Config()
    {
        var options = new TollgateOptions
        {
            Upstreams = new(StringComparer.Ordinal) { ["sim"] = new() { Kind = UpstreamKinds.Simulator } },
            Models = new(StringComparer.Ordinal)
            {
                ["sim-o200k"] = new() { Upstream = "sim", Encoding = TokenEncoding.O200kBase },
                ["public-cl100k"] = new() { Upstream = "sim", UpstreamModel = "sim-cl100k", Encoding = TokenEncoding.Cl100kBase },
                ["model-approx"] = new() { Upstream = "sim", Encoding = TokenEncoding.Approximate },
            },
            Plans = new(StringComparer.Ordinal) { ["p"] = new() { Models = ["*"] } },
        };
        Assert.True(GatewayConfig.TryCreate(options, out var config, out var errors), string.Join("; ", errors));
        return config!;
    }

    private sealed class FixedConfig(GatewayConfig config) : IGatewayConfigSource
    {
        public GatewayConfig Current => config;
    }
}
