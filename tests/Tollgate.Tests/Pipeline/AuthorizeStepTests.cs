using Tollgate.Identity;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Protocol;
using Tollgate.Protocols;

namespace Tollgate.Tests.Pipeline;

public sealed class AuthorizeStepTests : IAsyncLifetime
{
    private readonly StepHarness _harness = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Fact]
    public void Run_ModelInThePlan_NoErrorAndTheModelIsSet()
    {
        var context = Context(StepHarness.ChatBody("chat-mini"), "basic");

        Assert.Null(AuthorizeStep.Run(context));
        Assert.Equal(("chat-mini", "chat-mini-2025", "scripted"), (context.Model?.Name, context.Model?.UpstreamModel, context.Model?.UpstreamName));
    }

    [Fact]
    public void Run_Alias_ResolvesToTheModel()
    {
        var context = Context(StepHarness.ChatBody("mini"), "basic");

        Assert.Null(AuthorizeStep.Run(context));
        Assert.Equal("chat-mini", context.Model?.Name);
    }

    [Fact]
    public void Run_UnknownModel_404NamingIt()
    {
        var context = Context(StepHarness.ChatBody("chat-huge"), "premium");

        var error = AuthorizeStep.Run(context);

        Assert.Equal((404, ErrorCodes.ModelNotFound, "model"), (error?.Status, error?.Code, error?.Param));
        Assert.Contains("'chat-huge'", error!.Message, StringComparison.Ordinal);
        Assert.Null(context.Model);
    }

    [Fact]
    public void Run_UnknownModelWithALongName_NameBoundedInTheMessage()
    {
        var context = Context(StepHarness.ChatBody(new string('x', 500)), "premium");

        var error = AuthorizeStep.Run(context);

        Assert.Equal(404, error?.Status);
        Assert.True(error!.Message.Length < 200, error.Message);
    }

    [Fact]
    public void Run_EmbeddingModelOnChat_400UseEmbeddings()
    {
        var context = Context(StepHarness.ChatBody("embed-small"), "premium");

        var error = AuthorizeStep.Run(context);

        Assert.Equal((400, ErrorCodes.InvalidRequest, "model"), (error?.Status, error?.Code, error?.Param));
        Assert.Contains("/v1/embeddings", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ChatModelOnEmbeddings_400NoEmbeddings()
    {
        var context = Context("{\"model\":\"chat-mini\",\"input\":\"a line\"}", "premium", ProtocolEndpoint.OpenAIEmbeddings);

        var error = AuthorizeStep.Run(context);

        Assert.Equal((400, "model"), (error?.Status, error?.Param));
        Assert.Contains("does not produce embeddings", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PlanWithoutTheModel_403()
    {
        var context = Context(StepHarness.ChatBody("chat-large"), "basic");

        var error = AuthorizeStep.Run(context);

        Assert.Equal((403, ErrorTypes.Permission, ErrorCodes.ModelNotAllowed), (error?.Status, error?.Type, error?.Code));
        Assert.Contains("'basic'", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PlanWithEveryModel_Allowed()
    {
        var context = Context(StepHarness.ChatBody("chat-large"), "premium");

        Assert.Null(AuthorizeStep.Run(context));
    }

    private RequestContext Context(string body, string plan, ProtocolEndpoint? endpoint = null)
    {
        var context = _harness.Context(body, endpoint);
        context.Caller = new CallerIdentity("key_1", "acme", "alice", plan);
        context.Request = StepHarness.Parse(body, endpoint);
        return context;
    }
}
