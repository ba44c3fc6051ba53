using Tollgate.Identity;
using Tollgate.Protocol;

namespace Tollgate.Tests.Pipeline;

public sealed class AuthenticateStepTests : IAsyncLifetime
{
    private readonly StepHarness _harness = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Fact]
    public async Task RunAsync_ValidBearerKey_NoErrorAndTheCallerIsSet()
    {
        var (id, secret) = await _harness.CreateKeyAsync();
        var context = _harness.Context(bearer: secret);

        var error = await _harness.Authenticate.RunAsync(context);

        Assert.Null(error);
        Assert.Equal(new CallerIdentity(id, "acme", "alice", "basic"), context.Caller);
    }

    [Fact]
    public async Task RunAsync_ValidXApiKey_NoErrorAndTheCallerIsSet()
    {
        var (id, secret) = await _harness.CreateKeyAsync();
        var context = _harness.Context();
        context.Http.Request.Headers["x-api-key"] = secret;

        Assert.Null(await _harness.Authenticate.RunAsync(context));
        Assert.Equal(id, context.Caller?.KeyId);
    }

    [Fact]
    public async Task RunAsync_RevokedKey_401NamingTheKey()
    {
        var (id, secret) = await _harness.CreateKeyAsync();
        await _harness.Keys.RevokeAsync(id, _harness.Time.GetUtcNow(), CancellationToken.None);
        var context = _harness.Context(bearer: secret);

        var error = await _harness.Authenticate.RunAsync(context);

        Assert.Equal((401, ErrorTypes.Authentication, ErrorCodes.InvalidApiKey), (error?.Status, error?.Type, error?.Code));
        Assert.Contains("revoked", error!.Message, StringComparison.Ordinal);
        Assert.Equal(id, context.KeyId);
        Assert.Null(context.Caller);
    }

    [Fact]
    public async Task RunAsync_UnknownKey_401WithoutAKeyId()
    {
        await _harness.CreateKeyAsync();
        var context = _harness.Context(bearer: ApiKeyFormat.NewSecret());

        var error = await _harness.Authenticate.RunAsync(context);

        Assert.Equal((401, ErrorCodes.InvalidApiKey), (error?.Status, error?.Code));
        Assert.Null(context.KeyId);
        Assert.Null(context.Caller);
    }

    [Fact]
    public async Task RunAsync_NoKey_401()
    {
        var error = await _harness.Authenticate.RunAsync(_harness.Context());

        Assert.Equal(401, error?.Status);
        Assert.Contains("No API key", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_BothHeadersDifferentKeys_401EvenWhenEachIsValid()
    {
        var (_, first) = await _harness.CreateKeyAsync();
        var (_, second) = await _harness.CreateKeyAsync();
        var context = _harness.Context(bearer: first);
        context.Http.Request.Headers["x-api-key"] = second;

        var error = await _harness.Authenticate.RunAsync(context);

        Assert.Equal((401, ErrorCodes.InvalidApiKey), (error?.Status, error?.Code));
        Assert.Contains("different keys", error!.Message, StringComparison.Ordinal);
        Assert.Null(context.Caller);
    }
}
