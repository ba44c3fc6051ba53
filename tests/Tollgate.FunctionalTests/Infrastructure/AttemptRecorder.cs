using System.ClientModel.Primitives;

namespace Tollgate.FunctionalTests.Infrastructure;

/// <summary>
/// A per-try pipeline policy: it sits after the SDK's retry policy, so it sees every attempt the SDK sends and
/// records the status and headers the gateway answered each one with.
/// </summary>
internal sealed class AttemptRecorder : PipelinePolicy
{
    private readonly List<Attempt> _attempts = [];

    /// <summary>The attempts, in order.</summary>
    public IReadOnlyList<Attempt> Attempts
    {
        get
        {
            lock (_attempts)
            {
                return [.. _attempts];
            }
        }
    }

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        ProcessNext(message, pipeline, currentIndex);
        Record(message);
    }

    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        await ProcessNextAsync(message, pipeline, currentIndex);
        Record(message);
    }

    private void Record(PipelineMessage message)
    {
        if (message.Response is not { } response)
        {
            return;
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in response.Headers)
        {
            headers[name] = value;
        }

        lock (_attempts)
        {
            _attempts.Add(new Attempt(response.Status, headers));
        }
    }
}

/// <summary>One attempt as the SDK received it.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Headers">The response headers (names case-insensitive).</param>
internal sealed record Attempt(int Status, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>The header's value, or null when absent.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
