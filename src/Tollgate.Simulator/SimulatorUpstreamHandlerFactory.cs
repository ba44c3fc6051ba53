using System.Collections.Concurrent;
using Tollgate.Configuration;
using Tollgate.Tokenization;
using Tollgate.Upstreams;

namespace Tollgate.Simulator;

/// <summary>
/// The <c>simulator</c> upstream kind: one in-process <see cref="SimulatorEngine"/> per upstream name, created on
/// first use with that upstream's <see cref="UpstreamOptions.Simulator"/> latency. It counts a request's tokens with
/// the encoding of the configured model whose upstream id (or name) the request carries, as the configuration
/// stands at the time of the request. Register it with <see cref="SimulatorServiceCollectionExtensions.AddTollgateSimulator"/>.
/// </summary>
public sealed class SimulatorUpstreamHandlerFactory : IUpstreamHandlerFactory
{
    private static readonly Uri _baseAddress = new("http://simulator.tollgate.internal/v1/");

    private readonly ConcurrentDictionary<string, SimulatorEngine> _engines = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private readonly IGatewayConfigSource _config;
    private readonly SimulatorCallCounter _calls = new();

    /// <summary>Creates the factory.</summary>
    /// <param name="timeProvider">The clock of every engine (latency, <c>created</c> timestamps).</param>
    /// <param name="config">The gateway's configuration: upstream latencies and model encodings.</param>
    public SimulatorUpstreamHandlerFactory(TimeProvider timeProvider, IGatewayConfigSource config)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(config);
        _timeProvider = timeProvider;
        _config = config;
    }

    /// <inheritdoc/>
    public string Kind => UpstreamKinds.Simulator;

    /// <summary>The engine behind upstream <paramref name="upstreamName"/> (created on first use): its bills and barrier.</summary>
    /// <param name="upstreamName">The upstream's name in the configuration.</param>
    /// <returns>The upstream's engine; the same one for the life of the process.</returns>
    public SimulatorEngine Engine(string upstreamName) =>
        _engines.GetOrAdd(upstreamName, static (name, self) => self.CreateEngine(name), this);

    /// <summary>The simulator speaks both protocols: Anthropic's Messages for its endpoints, OpenAI's for the rest.</summary>
    /// <param name="endpoint">The endpoint the caller called.</param>
    /// <returns>The upstream side of the protocol.</returns>
    public Protocol.IUpstreamProtocol? ProtocolFor(Protocol.ApiEndpoint endpoint) => Protocol.ApiEndpoints.IsMessages(endpoint)
        ? Tollgate.Protocol.AnthropicUpstreamProtocol.Instance
        : Tollgate.Protocol.OpenAIUpstreamProtocol.Instance;

    /// <inheritdoc/>
    public Uri GetBaseAddress(string upstreamName, UpstreamOptions options) => _baseAddress;

    /// <inheritdoc/>
    public HttpMessageHandler CreateHandler(string upstreamName, UpstreamOptions options) => Engine(upstreamName).CreateHandler();

    private SimulatorEngine CreateEngine(string upstreamName)
    {
        var latency = _config.Current.Options.Upstreams.TryGetValue(upstreamName, out var options) ? options.Simulator : new SimulatorLatencyOptions();
        return new SimulatorEngine(_timeProvider, latency, EncodingFor, _calls);
    }

    private string? EncodingFor(string upstreamModel)
    {
        foreach (var model in _config.Current.Models)
        {
            if (model.UpstreamModel == upstreamModel || model.Name == upstreamModel)
            {
                return model.Encoding == TokenEncoding.Approximate ? TokenEncoding.Cl100kBase : model.Encoding;
            }
        }

        return null;
    }
}
