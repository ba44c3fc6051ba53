using Tollgate.Configuration;
using Tollgate.Upstreams;

namespace Tollgate.Tests.Upstreams;

public sealed class UpstreamClientsTests
{
    private static readonly UpstreamOptions _options = new() { Kind = "fake", BaseUrl = "http://one.example/v1" };

    [Fact]
    public void Rent_SameOptions_SameClientFromTheKindsFactory()
    {
        var factory = new FakeFactory("fake");
        using var clients = new UpstreamClients([factory]);

        using var first = clients.Rent("up", _options);
        using var second = clients.Rent("up", _options);

        Assert.Same(first.Client, second.Client);
        Assert.Single(factory.Handlers);
        Assert.Equal(new Uri("http://fake.example/up/"), first.Client.BaseAddress);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(new[] { "chat", "responses" }, true)]
    [InlineData(new[] { "chat" }, false)]
    public void ProtocolFor_ApisListed_OnlyThoseServedNatively(string[]? apis, bool servesResponses)
    {
        using var clients = new UpstreamClients([new FakeFactory("fake")]);
        var options = new UpstreamOptions { Kind = "fake", BaseUrl = "http://one.example/v1", Apis = apis?.ToList() };

        var responses = clients.ProtocolFor(options, Protocol.ApiEndpoint.Responses);

        Assert.Same(Protocol.OpenAIUpstreamProtocol.Instance, clients.ProtocolFor(options, Protocol.ApiEndpoint.ChatCompletions));
        Assert.Equal(servesResponses, responses is not null and not Protocol.Translation.ITranslatingProtocol);
        Assert.Equal(responses is not null, clients.Serves(options, Protocol.ApiEndpoint.Responses));
    }

    [Fact]
    public void ProtocolFor_UnknownKind_Nothing()
    {
        using var clients = new UpstreamClients([new FakeFactory("fake")]);

        Assert.Null(clients.ProtocolFor(new UpstreamOptions { Kind = "other", BaseUrl = "http://one.example/v1" }, Protocol.ApiEndpoint.ChatCompletions));
    }

    [Fact]
    public void Rent_ChangedConnectionSettings_ReplacedClientDisposedWhenItsLastLeaseEnds()
    {
        var factory = new FakeFactory("fake");
        using var clients = new UpstreamClients([factory]);
        var inFlight = clients.Rent("up", _options);
        var alsoInFlight = clients.Rent("up", _options);

        using var next = clients.Rent("up", new UpstreamOptions { Kind = "fake", BaseUrl = "http://two.example/v1" });

        Assert.NotSame(inFlight.Client, next.Client);
        Assert.False(factory.Handlers[0].Disposed);
        inFlight.Dispose();
        inFlight.Dispose(); // a second dispose of the same lease counts once
        Assert.False(factory.Handlers[0].Disposed);
        alsoInFlight.Dispose();
        Assert.True(factory.Handlers[0].Disposed);
        Assert.False(factory.Handlers[1].Disposed);
    }

    [Fact]
    public void Rent_ChangedSettingsAndNoRequestInFlight_OldClientDisposedAtOnce()
    {
        var factory = new FakeFactory("fake");
        using var clients = new UpstreamClients([factory]);
        clients.Rent("up", _options).Dispose();

        using var next = clients.Rent("up", new UpstreamOptions { Kind = "fake", BaseUrl = "http://one.example/v1", ConnectTimeout = TimeSpan.FromSeconds(1) });

        Assert.True(factory.Handlers[0].Disposed);
        Assert.False(factory.Handlers[1].Disposed);
    }

    [Fact]
    public void Dispose_LeaseStillHeld_HandlerDisposedOnlyWhenItEnds()
    {
        var factory = new FakeFactory("fake");
        var clients = new UpstreamClients([factory]);
        var lease = clients.Rent("up", _options);

        clients.Dispose();

        Assert.False(factory.Handlers[0].Disposed);
        lease.Dispose();
        Assert.True(factory.Handlers[0].Disposed);
        Assert.Throws<ObjectDisposedException>(() => clients.Rent("up", _options));
    }

    [Fact]
    public void Rent_KindWithoutFactory_ThrowsNamingTheKind()
    {
        using var clients = new UpstreamClients([new FakeFactory("fake")]);

        var e = Assert.Throws<InvalidOperationException>(() => clients.Rent("up", new UpstreamOptions { Kind = "other" }));

        Assert.Contains("'other'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rent_TwoFactoriesForOneKind_TheLastRegisteredWins()
    {
        var first = new FakeFactory("fake");
        var last = new FakeFactory("fake");
        using var clients = new UpstreamClients([first, last]);

        using var lease = clients.Rent("up", _options);

        Assert.Empty(first.Handlers);
        Assert.Single(last.Handlers);
    }

    [Fact]
    public void Rent_ManyThreadsWhileSettingsFlipFlop_EveryReplacedHandlerDisposedExactlyWhenUnused()
    {
        var factory = new FakeFactory("fake");
        using var clients = new UpstreamClients([factory]);
        UpstreamOptions[] settings = [_options, new() { Kind = "fake", BaseUrl = "http://two.example/v1" }];

        Parallel.For(0, 2_000, i =>
        {
            using var lease = clients.Rent("up", settings[i % 2]);
            // A disposed client or handler would throw here.
            using var response = lease.Client.Http.GetAsync(lease.Client.BaseAddress).GetAwaiter().GetResult();
        });

        Assert.Single(factory.Handlers, h => !h.Disposed);
    }

    private sealed class FakeFactory(string kind) : IUpstreamHandlerFactory
    {
        private readonly Lock _lock = new();

        public List<FakeHandler> Handlers { get; } = [];

        public string Kind => kind;

        public Uri GetBaseAddress(string upstreamName, UpstreamOptions options) => new($"http://fake.example/{upstreamName}/");

        public HttpMessageHandler CreateHandler(string upstreamName, UpstreamOptions options)
        {
            var handler = new FakeHandler();
            lock (_lock)
            {
                Handlers.Add(handler);
            }

            return handler;
        }
    }

    private sealed class FakeHandler : HttpMessageHandler
    {
        private volatile bool _disposed;

        public bool Disposed => _disposed;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(Disposed, this);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }

        protected override void Dispose(bool disposing)
        {
            _disposed = true;
            base.Dispose(disposing);
        }
    }
}
