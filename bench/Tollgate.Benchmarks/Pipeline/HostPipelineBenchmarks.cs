using System.Net;
using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Pipeline;
using Tollgate.Protocols;
using Tollgate.Upstreams;

namespace Tollgate.Benchmarks.Pipeline;

/// <summary>
/// The gateway's whole request path in process: <see cref="RequestPipeline.HandleAsync"/> on a
/// <see cref="DefaultHttpContext"/>, with the services the host registers (authentication, admission on the in-memory
/// quota store, forwarding, relaying, metering, settling, the audit record to the ledger writer) and an upstream that
/// answers from memory. No sockets, no Kestrel: what is left is the gateway's own work per request.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class HostPipelineBenchmarks : IDisposable
{
    private ServiceProvider _services = null!;
    private RequestPipeline _pipeline = null!;
    private string _authorization = null!;
    private readonly MemoryStream _responseBody = new(16 * 1024);

    [GlobalSetup]
    public void Setup()
    {
        var config = PipelineInputs.Config();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.ClearProviders());
        services.AddSingleton(TimeProvider.System);
        services.AddTollgateConfiguration(new ConfigurationBuilder().Build(), config);
        services.AddSingleton<IApiKeyStore, InMemoryApiKeyStore>();
        services.AddSingleton<ILedgerStore>(new DiscardingLedgerStore());
        services.AddSingleton(new KeyHasher([.. Enumerable.Range(0, 32).Select(i => (byte)((i * 5) + 1))]));
        services.AddTollgateCore();
        services.AddTollgateGateway();
        // Registered after the gateway's own openai factory, so it wins for that kind.
        services.AddSingleton<IUpstreamHandlerFactory, InMemoryUpstreamFactory>();
        _services = services.BuildServiceProvider();

        AdmissionPolicy.WarmUp(config);
        var issuer = _services.GetRequiredService<ApiKeyIssuer>();
        var (_, secret) = issuer.CreateAsync(new ApiKeyIssuer.Request("acme", "alice", PipelineInputs.Plan), CancellationToken.None)
            .GetAwaiter().GetResult();
        _authorization = "Bearer " + secret;
        _pipeline = _services.GetRequiredService<RequestPipeline>();

        // Both shapes must succeed, or the numbers measure a refusal.
        foreach (byte[] body in (byte[][])[PipelineInputs.ChatRequest, PipelineInputs.StreamingChatRequest])
        {
            var http = NewContext(body);
            _pipeline.HandleAsync(http, ProtocolEndpoint.OpenAIChatCompletions).GetAwaiter().GetResult();
            if (http.Response.StatusCode != 200 || !System.Text.Encoding.UTF8.GetString(_responseBody.ToArray()).Contains("cost_nanousd", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The pipeline answered {http.Response.StatusCode}: {System.Text.Encoding.UTF8.GetString(_responseBody.ToArray())}");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.GetRequiredService<LedgerWriter>().FlushAsync().GetAwaiter().GetResult();
        _services.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _responseBody.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A chat request answered with one JSON chat completion.</summary>
    [Benchmark]
    public Task ChatRequest() => _pipeline.HandleAsync(NewContext(PipelineInputs.ChatRequest), ProtocolEndpoint.OpenAIChatCompletions);

    /// <summary>A streamed chat request answered with 20 content chunks, a usage chunk and [DONE].</summary>
    [Benchmark]
    public Task StreamingChatRequest() =>
        _pipeline.HandleAsync(NewContext(PipelineInputs.StreamingChatRequest), ProtocolEndpoint.OpenAIChatCompletions);

    private DefaultHttpContext NewContext(byte[] body)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Loopback;
        http.Request.Method = HttpMethods.Post;
        http.Request.Path = "/v1/chat/completions";
        http.Request.ContentType = "application/json";
        http.Request.Headers.Authorization = _authorization;
        http.Request.Body = new MemoryStream(body, writable: false);
        http.Request.ContentLength = body.Length;
        _responseBody.SetLength(0);
        http.Response.Body = _responseBody;
        return http;
    }

    /// <summary>The <c>openai</c> kind, answered from memory: a canned chat completion or event stream per call.</summary>
    private sealed class InMemoryUpstreamFactory : IUpstreamHandlerFactory
    {
        public string Kind => UpstreamKinds.OpenAI;

        public Uri GetBaseAddress(string upstreamName, UpstreamOptions options) => new("http://upstream.invalid/v1/");

        public HttpMessageHandler CreateHandler(string upstreamName, UpstreamOptions options) => new CannedHandler();
    }

    private sealed class CannedHandler : HttpMessageHandler
    {
        private static readonly MediaTypeHeaderValue s_json = new("application/json");
        private static readonly MediaTypeHeaderValue s_eventStream = new("text/event-stream");

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // The gateway's rewritten body, read as an upstream would.
            bool stream = false;
            if (request.Content is { } content)
            {
                byte[] body = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                stream = body.AsSpan().IndexOf("\"stream\":true"u8) >= 0;
            }

            var response = new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new ByteArrayContent(stream ? PipelineInputs.ChatStream : PipelineInputs.ChatResponse),
                RequestMessage = request,
            };
            response.Content.Headers.ContentType = stream ? s_eventStream : s_json;
            return response;
        }
    }

    /// <summary>
    /// An <see cref="InMemoryLedgerStore"/> that forgets records once written, so that a run of millions of requests
    /// keeps a flat heap; leases are kept and ended as usual.
    /// </summary>
    private sealed class DiscardingLedgerStore : ILedgerStore
    {
        private readonly InMemoryLedgerStore _inner = new();

        public Task ProbeWriteAsync(CancellationToken cancellationToken) => _inner.ProbeWriteAsync(cancellationToken);

        public async Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
        {
            await _inner.AppendAsync(records, cancellationToken).ConfigureAwait(false);
            await _inner.DeleteBeforeAsync(DateTimeOffset.MaxValue, cancellationToken).ConfigureAwait(false);
        }

        public Task AddLeaseAsync(ReservationLease lease, CancellationToken cancellationToken) => _inner.AddLeaseAsync(lease, cancellationToken);

        public Task MarkBackgroundAsync(string leaseId, string responseId, CancellationToken cancellationToken) =>
            _inner.MarkBackgroundAsync(leaseId, responseId, cancellationToken);

        public Task<IReadOnlyList<ReservationLease>> ReadLeasesAsync(CancellationToken cancellationToken) => _inner.ReadLeasesAsync(cancellationToken);

        public IAsyncEnumerable<AuditRecord> ReadAllowedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
            _inner.ReadAllowedSinceAsync(since, cancellationToken);

        public Task<IReadOnlyList<UsageSummary>> QueryUsageAsync(UsageQuery query, CancellationToken cancellationToken) =>
            _inner.QueryUsageAsync(query, cancellationToken);

        public Task<IReadOnlyList<AuditRecord>> ReadAsync(UsageQuery query, int limit, CancellationToken cancellationToken) =>
            _inner.ReadAsync(query, limit, cancellationToken);

        public Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken) => _inner.DeleteBeforeAsync(before, cancellationToken);
    }
}
