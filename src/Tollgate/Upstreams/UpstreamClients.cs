using System.Collections.Concurrent;
using Tollgate.Configuration;
using Tollgate.Simulator;

namespace Tollgate.Upstreams;

/// <summary>
/// One pooled <see cref="HttpClient"/> per upstream (rebuilt when its connection settings change on reload). An
/// upstream of kind <c>simulator</c> gets a client whose handler is the in-process <see cref="SimulatorEngine"/>.
/// </summary>
internal sealed class UpstreamClients(TimeProvider timeProvider, GatewayConfigMonitor config) : IDisposable
{
    private static readonly Uri s_simulatorBase = new("http://simulator.tollgate.internal/v1/");

    private readonly ConcurrentDictionary<string, UpstreamClient> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SimulatorEngine> _simulators = new(StringComparer.Ordinal);

    public UpstreamClient Get(string name, UpstreamOptions options)
    {
        if (_clients.TryGetValue(name, out var existing) && existing.Matches(options))
        {
            return existing;
        }

        var created = Create(name, options);
        _clients[name] = created;
        return created;
    }

    /// <summary>The in-process simulator behind upstream <paramref name="name"/> (created on first use).</summary>
    public SimulatorEngine Simulator(string name) => _simulators.GetOrAdd(name, n =>
    {
        var latency = config.Current.Options.Upstreams.TryGetValue(n, out var o) ? o.Simulator : new SimulatorLatencyOptions();
        return new SimulatorEngine(timeProvider, latency, EncodingFor);
    });

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Http.Dispose();
        }
    }

    private string? EncodingFor(string upstreamModel)
    {
        foreach (var model in config.Current.Models)
        {
            if (model.UpstreamModel == upstreamModel || model.Name == upstreamModel)
            {
                return model.Encoding == Tokenization.TokenEncoding.Approximate ? Tokenization.TokenEncoding.Cl100kBase : model.Encoding;
            }
        }

        return null;
    }

    private UpstreamClient Create(string name, UpstreamOptions options)
    {
        string? apiKey = options.ApiKeyEnv is { Length: > 0 } env ? Environment.GetEnvironmentVariable(env) : null;
        if (options.Kind == UpstreamKinds.Simulator)
        {
            var http = new HttpClient(Simulator(name).CreateHandler(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
            return new UpstreamClient(name, options, http, s_simulatorBase, apiKey);
        }

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
        };
        string baseUrl = options.BaseUrl!.EndsWith('/') ? options.BaseUrl : options.BaseUrl + "/";
        return new UpstreamClient(name, options, new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }, new Uri(baseUrl), apiKey);
    }
}

/// <summary>A configured upstream's client, base address and credential.</summary>
internal sealed record UpstreamClient(string Name, UpstreamOptions Options, HttpClient Http, Uri BaseAddress, string? ApiKey)
{
    public bool Matches(UpstreamOptions other) =>
        other.Kind == Options.Kind && other.BaseUrl == Options.BaseUrl && other.ApiKeyEnv == Options.ApiKeyEnv
        && other.ConnectTimeout == Options.ConnectTimeout;
}
