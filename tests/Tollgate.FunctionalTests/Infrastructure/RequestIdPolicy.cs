using System.ClientModel.Primitives;

namespace Tollgate.FunctionalTests.Infrastructure;

/// <summary>Sets <c>x-request-id</c> on the OpenAI SDK's requests so a test can find the ledger record of a call.</summary>
internal sealed class RequestIdPolicy : PipelinePolicy
{
    public string Next { get; set; } = "";

    public string Use() => Next = "test-" + Guid.NewGuid().ToString("n");

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Set("x-request-id", Next);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Set("x-request-id", Next);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }
}
